//! A small but real CLAP host: loads a built `.clap` with `dlopen`, goes through `clap_entry`
//! and the plugin factory, creates, activates and processes the plugin with note events and a
//! transport, reads its output events and saves/loads its state. It exercises the exact binary
//! a DAW would load, not the Rust API.

use std::ffi::{c_char, c_void, CStr, CString};
use std::path::Path;
use std::ptr;

use clap_sys::audio_buffer::clap_audio_buffer;
use clap_sys::entry::clap_plugin_entry;
use clap_sys::events::*;
use clap_sys::ext::params::{clap_param_info, clap_plugin_params, CLAP_EXT_PARAMS};
use clap_sys::ext::state::{clap_plugin_state, CLAP_EXT_STATE};
use clap_sys::factory::plugin_factory::{clap_plugin_factory, CLAP_PLUGIN_FACTORY_ID};
use clap_sys::fixedpoint::{CLAP_BEATTIME_FACTOR, CLAP_SECTIME_FACTOR};
use clap_sys::host::clap_host;
use clap_sys::plugin::clap_plugin;
use clap_sys::process::clap_process;
use clap_sys::version::CLAP_VERSION;

/// A note event as the host saw it come out: (absolute sample, key, channel, velocity 0..=1,
/// on = true).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClapNote {
    pub sample: i64,
    pub key: i16,
    pub channel: i16,
    pub velocity: f64,
    pub on: bool,
}

/// Input events for one block: notes and parameter changes.
#[derive(Debug, Clone, Copy)]
pub enum ClapInput {
    Note { time: u32, key: i16, velocity: f64, on: bool },
    Param { time: u32, id: u32, value: f64 },
}

#[repr(C)]
union AnyEvent {
    header: clap_event_header,
    note: clap_event_note,
    param: clap_event_param_value,
}

struct InputList {
    events: Vec<AnyEvent>,
}

struct OutputList {
    block_start: i64,
    notes: Vec<ClapNote>,
}

unsafe extern "C" fn input_size(list: *const clap_input_events) -> u32 {
    unsafe { (*((*list).ctx as *const InputList)).events.len() as u32 }
}

unsafe extern "C" fn input_get(list: *const clap_input_events, index: u32) -> *const clap_event_header {
    unsafe {
        let events = &(*((*list).ctx as *const InputList)).events;
        events.get(index as usize).map_or(ptr::null(), |e| &e.header as *const _)
    }
}

unsafe extern "C" fn output_push(list: *const clap_output_events, event: *const clap_event_header) -> bool {
    unsafe {
        let out = &mut *((*list).ctx as *mut OutputList);
        let header = &*event;
        if header.space_id == CLAP_CORE_EVENT_SPACE_ID
            && (header.type_ == CLAP_EVENT_NOTE_ON || header.type_ == CLAP_EVENT_NOTE_OFF)
        {
            let note = &*(event as *const clap_event_note);
            out.notes.push(ClapNote {
                sample: out.block_start + header.time as i64,
                key: note.key,
                channel: note.channel,
                velocity: note.velocity,
                on: header.type_ == CLAP_EVENT_NOTE_ON,
            });
        } else if header.space_id == CLAP_CORE_EVENT_SPACE_ID && header.type_ == CLAP_EVENT_MIDI {
            let midi = &*(event as *const clap_event_midi);
            let status = midi.data[0] & 0xf0;
            if status == 0x90 || status == 0x80 {
                let on = status == 0x90 && midi.data[2] > 0;
                out.notes.push(ClapNote {
                    sample: out.block_start + header.time as i64,
                    key: midi.data[1] as i16,
                    channel: (midi.data[0] & 0x0f) as i16,
                    velocity: midi.data[2] as f64 / 127.0,
                    on,
                });
            }
        }
        true
    }
}

unsafe extern "C" fn host_get_extension(_host: *const clap_host, _id: *const c_char) -> *const c_void {
    ptr::null()
}
unsafe extern "C" fn host_request_restart(_host: *const clap_host) {}
unsafe extern "C" fn host_request_process(_host: *const clap_host) {}
unsafe extern "C" fn host_request_callback(_host: *const clap_host) {}

unsafe extern "C" fn stream_write(stream: *const clap_ostream_t, buffer: *const c_void, size: u64) -> i64 {
    unsafe {
        let out = &mut *((*stream).ctx as *mut Vec<u8>);
        out.extend_from_slice(std::slice::from_raw_parts(buffer as *const u8, size as usize));
        size as i64
    }
}

struct ReadCursor {
    data: Vec<u8>,
    pos: usize,
}

unsafe extern "C" fn stream_read(stream: *const clap_istream_t, buffer: *mut c_void, size: u64) -> i64 {
    unsafe {
        let cursor = &mut *((*stream).ctx as *mut ReadCursor);
        let n = (size as usize).min(cursor.data.len() - cursor.pos);
        ptr::copy_nonoverlapping(cursor.data[cursor.pos..].as_ptr(), buffer as *mut u8, n);
        cursor.pos += n;
        n as i64
    }
}

use clap_sys::stream::{clap_istream as clap_istream_t, clap_ostream as clap_ostream_t};

pub struct ClapInstance {
    // Field order matters: the plugin must be destroyed before the library is unloaded.
    plugin: *const clap_plugin,
    entry: *const clap_plugin_entry,
    _host: Box<clap_host>,
    _library: libloading::Library,
    pub sample_rate: f64,
    pub tempo: f64,
    pub playing: bool,
    pub pos_samples: i64,
    pub steady_time: i64,
    pub output: Vec<ClapNote>,
    pub plugin_id: String,
    pub plugin_name: String,
    activated: bool,
}

impl ClapInstance {
    /// Loads the `.clap` at `path` and creates its first plugin.
    pub fn load(path: &Path) -> Result<Self, String> {
        unsafe {
            let library = libloading::Library::new(path).map_err(|e| format!("dlopen {}: {e}", path.display()))?;
            let entry: libloading::Symbol<*const clap_plugin_entry> =
                library.get(b"clap_entry\0").map_err(|e| format!("no clap_entry: {e}"))?;
            let entry = *entry;
            let c_path = CString::new(path.to_string_lossy().as_bytes()).unwrap();
            if !((*entry).init.unwrap())(c_path.as_ptr()) {
                return Err("clap_entry.init failed".into());
            }
            let factory =
                ((*entry).get_factory.unwrap())(CLAP_PLUGIN_FACTORY_ID.as_ptr()) as *const clap_plugin_factory;
            if factory.is_null() {
                return Err("no plugin factory".into());
            }
            let count = ((*factory).get_plugin_count.unwrap())(factory);
            if count == 0 {
                return Err("the factory lists no plugins".into());
            }
            let descriptor = ((*factory).get_plugin_descriptor.unwrap())(factory, 0);
            let plugin_id = CStr::from_ptr((*descriptor).id).to_string_lossy().into_owned();
            let plugin_name = CStr::from_ptr((*descriptor).name).to_string_lossy().into_owned();

            let host = Box::new(clap_host {
                clap_version: CLAP_VERSION,
                host_data: ptr::null_mut(),
                name: c"cadenza-test-host".as_ptr(),
                vendor: c"cadenza".as_ptr(),
                url: c"".as_ptr(),
                version: c"0.1".as_ptr(),
                get_extension: Some(host_get_extension),
                request_restart: Some(host_request_restart),
                request_process: Some(host_request_process),
                request_callback: Some(host_request_callback),
            });
            let plugin = ((*factory).create_plugin.unwrap())(factory, &*host, (*descriptor).id);
            if plugin.is_null() {
                return Err("create_plugin returned null".into());
            }
            if !((*plugin).init.unwrap())(plugin) {
                return Err("plugin init failed".into());
            }
            Ok(Self {
                plugin,
                entry,
                _host: host,
                _library: library,
                sample_rate: 48_000.0,
                tempo: 120.0,
                playing: true,
                pos_samples: 0,
                steady_time: 0,
                output: Vec::new(),
                plugin_id,
                plugin_name,
                activated: false,
            })
        }
    }

    pub fn activate(&mut self, sample_rate: f64, max_block: u32) -> bool {
        self.sample_rate = sample_rate;
        unsafe {
            let ok = ((*self.plugin).activate.unwrap())(self.plugin, sample_rate, 1, max_block);
            if ok {
                self.activated = true;
                ((*self.plugin).start_processing.unwrap())(self.plugin);
            }
            ok
        }
    }

    pub fn deactivate(&mut self) {
        if self.activated {
            unsafe {
                ((*self.plugin).stop_processing.unwrap())(self.plugin);
                ((*self.plugin).deactivate.unwrap())(self.plugin);
            }
            self.activated = false;
        }
    }

    /// The raw plugin, for extensions this host does not wrap (the Wine host's GUI calls).
    pub fn raw(&self) -> *const clap_plugin {
        self.plugin
    }

    /// Lets the plugin run the main-thread tasks it asked for (state reloads, rescans).
    pub fn idle(&self) {
        unsafe { ((*self.plugin).on_main_thread.unwrap())(self.plugin) };
    }

    fn extension<T>(&self, id: &CStr) -> Option<&T> {
        unsafe {
            let ext = ((*self.plugin).get_extension.unwrap())(self.plugin, id.as_ptr()) as *const T;
            ext.as_ref()
        }
    }

    /// The id of the parameter called `name` (as shown to users).
    pub fn param_id(&self, name: &str) -> Option<u32> {
        let params = self.extension::<clap_plugin_params>(CLAP_EXT_PARAMS)?;
        unsafe {
            let count = (params.count.unwrap())(self.plugin);
            for index in 0..count {
                let mut info: clap_param_info = std::mem::zeroed();
                if (params.get_info.unwrap())(self.plugin, index, &mut info)
                    && CStr::from_ptr(info.name.as_ptr()).to_string_lossy() == name
                {
                    return Some(info.id);
                }
            }
        }
        None
    }

    pub fn param_value(&self, id: u32) -> Option<f64> {
        let params = self.extension::<clap_plugin_params>(CLAP_EXT_PARAMS)?;
        let mut value = 0.0;
        unsafe { (params.get_value.unwrap())(self.plugin, id, &mut value) }.then_some(value)
    }

    /// Processes one block of `frames` samples with `inputs`, advancing the transport.
    pub fn process(&mut self, frames: u32, inputs: &[ClapInput]) -> i32 {
        let beats = self.pos_samples as f64 / self.sample_rate * self.tempo / 60.0;
        let seconds = self.pos_samples as f64 / self.sample_rate;
        let mut flags = CLAP_TRANSPORT_HAS_TEMPO
            | CLAP_TRANSPORT_HAS_BEATS_TIMELINE
            | CLAP_TRANSPORT_HAS_SECONDS_TIMELINE
            | CLAP_TRANSPORT_HAS_TIME_SIGNATURE;
        if self.playing {
            flags |= CLAP_TRANSPORT_IS_PLAYING;
        }
        let transport = clap_event_transport {
            header: header::<clap_event_transport>(0, CLAP_EVENT_TRANSPORT),
            flags,
            song_pos_beats: (beats * CLAP_BEATTIME_FACTOR as f64).round() as i64,
            song_pos_seconds: (seconds * CLAP_SECTIME_FACTOR as f64).round() as i64,
            tempo: self.tempo,
            tempo_inc: 0.0,
            loop_start_beats: 0,
            loop_end_beats: 0,
            loop_start_seconds: 0,
            loop_end_seconds: 0,
            bar_start: ((beats / 4.0).floor() * 4.0 * CLAP_BEATTIME_FACTOR as f64) as i64,
            bar_number: (beats / 4.0).floor() as i32,
            tsig_num: 4,
            tsig_denom: 4,
        };
        let mut input_list = InputList { events: inputs.iter().map(to_clap_event).collect() };
        let mut output_list = OutputList { block_start: self.pos_samples, notes: Vec::new() };
        let in_events = clap_input_events {
            ctx: &mut input_list as *mut InputList as *mut c_void,
            size: Some(input_size),
            get: Some(input_get),
        };
        let out_events =
            clap_output_events { ctx: &mut output_list as *mut OutputList as *mut c_void, try_push: Some(output_push) };
        let mut left = vec![1.0f32; frames as usize];
        let mut right = vec![1.0f32; frames as usize];
        let mut channels = [left.as_mut_ptr(), right.as_mut_ptr()];
        let mut audio_out = clap_audio_buffer {
            data32: channels.as_mut_ptr(),
            data64: ptr::null_mut(),
            channel_count: 2,
            latency: 0,
            constant_mask: 0,
        };
        let process = clap_process {
            steady_time: self.steady_time,
            frames_count: frames,
            transport: &transport,
            audio_inputs: ptr::null(),
            audio_outputs: &mut audio_out,
            audio_inputs_count: 0,
            audio_outputs_count: 1,
            in_events: &in_events,
            out_events: &out_events,
        };
        let status = unsafe { ((*self.plugin).process.unwrap())(self.plugin, &process) };
        assert!(left.iter().chain(&right).all(|s| *s == 0.0), "the plugin must output silence");
        self.output.extend(output_list.notes);
        self.steady_time += frames as i64;
        if self.playing {
            self.pos_samples += frames as i64;
        }
        status
    }

    pub fn save_state(&self) -> Option<Vec<u8>> {
        let state = self.extension::<clap_plugin_state>(CLAP_EXT_STATE)?;
        let mut data: Vec<u8> = Vec::new();
        let stream = clap_ostream_t { ctx: &mut data as *mut Vec<u8> as *mut c_void, write: Some(stream_write) };
        unsafe { (state.save.unwrap())(self.plugin, &stream) }.then_some(data)
    }

    pub fn load_state(&self, data: &[u8]) -> bool {
        let Some(state) = self.extension::<clap_plugin_state>(CLAP_EXT_STATE) else { return false };
        let mut cursor = ReadCursor { data: data.to_vec(), pos: 0 };
        let stream = clap_istream_t { ctx: &mut cursor as *mut ReadCursor as *mut c_void, read: Some(stream_read) };
        let ok = unsafe { (state.load.unwrap())(self.plugin, &stream) };
        self.idle();
        ok
    }
}

impl Drop for ClapInstance {
    fn drop(&mut self) {
        self.deactivate();
        unsafe {
            ((*self.plugin).destroy.unwrap())(self.plugin);
            ((*self.entry).deinit.unwrap())();
        }
    }
}

fn header<T>(time: u32, type_: u16) -> clap_event_header {
    clap_event_header {
        size: std::mem::size_of::<T>() as u32,
        time,
        space_id: CLAP_CORE_EVENT_SPACE_ID,
        type_,
        flags: 0,
    }
}

fn to_clap_event(input: &ClapInput) -> AnyEvent {
    match *input {
        ClapInput::Note { time, key, velocity, on } => AnyEvent {
            note: clap_event_note {
                header: header::<clap_event_note>(time, if on { CLAP_EVENT_NOTE_ON } else { CLAP_EVENT_NOTE_OFF }),
                note_id: -1,
                port_index: 0,
                channel: 0,
                key,
                velocity,
            },
        },
        ClapInput::Param { time, id, value } => AnyEvent {
            param: clap_event_param_value {
                header: header::<clap_event_param_value>(time, CLAP_EVENT_PARAM_VALUE),
                param_id: id,
                cookie: ptr::null_mut(),
                note_id: -1,
                port_index: -1,
                channel: -1,
                key: -1,
                value,
            },
        },
    }
}

/// Where the bundles are: `$CADENZA_BUNDLE_DIR` or `target/bundled` of this workspace.
pub fn bundle_dir() -> std::path::PathBuf {
    std::env::var_os("CADENZA_BUNDLE_DIR")
        .map(Into::into)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bundled"))
}
