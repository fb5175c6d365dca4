//! A small but real VST3 host, in process: it gets the plugin factory from the `GetPluginFactory`
//! entry point of the linked `cadenza` crate (the same function the `.vst3` bundle exports, so no
//! `dlopen` is needed and nice-plug's counting allocator sees allocations inside `process()`),
//! creates the component, queries `IEditController`, `IAudioProcessor` and `IMidiMapping`, and
//! drives it as a DAW does: setupProcessing, setActive, setProcessing, `process()` with a
//! `ProcessContext`, note events, parameter changes and a per-block `processMode`, output events
//! (notes and `LegacyMIDICCOut`), getState/setState through an `IBStream`, and the parameter
//! queries hosts make. A component handler records every `restartComponent()` request.
//!
//! Everything the plugin may touch during `process()` is allocated before the call: the input
//! event list, the parameter queues and room for the output events.

// The vst3 crate's enum constants and integer aliases have other types on Windows (the Wine
// host in tests/windows builds this file there too): the casts are needed on some platform.
#![allow(clippy::unnecessary_cast)]

use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr;
use std::sync::Mutex;

use vst3::Steinberg::Vst::Event_::EventTypes_;
use vst3::Steinberg::Vst::ParameterInfo_::ParameterFlags_;
use vst3::Steinberg::Vst::ProcessContext_::StatesAndFlags_;
use vst3::Steinberg::Vst::*;
use vst3::Steinberg::*;
use vst3::{Class, ComPtr, ComWrapper, Interface};

/// Room for output events per block; more are refused (as a host with a full buffer would).
const OUTPUT_EVENT_CAPACITY: usize = 16_384;

/// `ProcessModes` as the `processMode` fields take them.
pub const REALTIME: i32 = ProcessModes_::kRealtime as i32;
pub const OFFLINE: i32 = ProcessModes_::kOffline as i32;

/// `RestartFlags::kParamValuesChanged`.
pub const PARAM_VALUES_CHANGED: i32 = RestartFlags_::kParamValuesChanged as i32;

/// VST3 `CtrlNumber`s of the non-CC controllers.
pub const CTRL_CHANNEL_PRESSURE: i16 = 128;
pub const CTRL_PITCH_BEND: i16 = 129;

/// Something to send in one block, at a sample offset inside it.
#[derive(Debug, Clone, Copy)]
pub enum Vst3Input {
    Note { offset: i32, channel: i16, pitch: i16, velocity: f32, on: bool },
    Param { offset: i32, id: u32, value: f64 },
}

/// An event the plugin sent, with its absolute sample position (block start + offset).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Vst3Output {
    NoteOn {
        sample: i64,
        channel: i16,
        pitch: i16,
        velocity: f32,
    },
    NoteOff {
        sample: i64,
        channel: i16,
        pitch: i16,
    },
    /// A `LegacyMIDICCOutEvent`: CC 0..=127, 128 channel pressure, 129 pitch bend (value is the
    /// low 7 bits, value2 the high ones).
    Controller {
        sample: i64,
        channel: i8,
        number: u8,
        value: i8,
        value2: i8,
    },
    Other {
        sample: i64,
        kind: u16,
    },
}

impl Vst3Output {
    pub fn is_note(&self) -> bool {
        matches!(self, Vst3Output::NoteOn { .. } | Vst3Output::NoteOff { .. })
    }
}

/// What `getParameterInfo` said about one parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Vst3ParamInfo {
    pub id: u32,
    pub title: String,
    pub short_title: String,
    pub units: String,
    pub step_count: i32,
    pub default_normalized: f64,
    pub flags: i32,
}

impl Vst3ParamInfo {
    pub fn is_hidden(&self) -> bool {
        self.flags & ParameterFlags_::kIsHidden as i32 != 0
    }
    pub fn is_read_only(&self) -> bool {
        self.flags & ParameterFlags_::kIsReadOnly as i32 != 0
    }
}

// --- Host-side COM objects -----------------------------------------------------------------

/// Records `restartComponent()` flags and edits from the plugin's editor.
pub struct ComponentHandler {
    pub restarts: Mutex<Vec<i32>>,
    pub edits: Mutex<Vec<(u32, f64)>>,
}

impl Class for ComponentHandler {
    type Interfaces = (IComponentHandler,);
}

impl IComponentHandlerTrait for ComponentHandler {
    unsafe fn beginEdit(&self, _id: ParamID) -> tresult {
        kResultOk
    }
    unsafe fn performEdit(&self, id: ParamID, value: ParamValue) -> tresult {
        self.edits.lock().unwrap().push((id, value));
        kResultOk
    }
    unsafe fn endEdit(&self, _id: ParamID) -> tresult {
        kResultOk
    }
    unsafe fn restartComponent(&self, flags: int32) -> tresult {
        self.restarts.lock().unwrap().push(flags);
        kResultOk
    }
}

/// A growable in-memory `IBStream`.
pub struct MemoryStream {
    data: Mutex<(Vec<u8>, usize)>,
}

impl Class for MemoryStream {
    type Interfaces = (IBStream,);
}

impl MemoryStream {
    pub fn new(data: Vec<u8>) -> ComWrapper<Self> {
        ComWrapper::new(Self { data: Mutex::new((data, 0)) })
    }
    pub fn bytes(&self) -> Vec<u8> {
        self.data.lock().unwrap().0.clone()
    }
}

impl IBStreamTrait for MemoryStream {
    unsafe fn read(&self, buffer: *mut c_void, num_bytes: int32, num_read: *mut int32) -> tresult {
        let mut guard = self.data.lock().unwrap();
        let (data, pos) = &mut *guard;
        let n = (num_bytes.max(0) as usize).min(data.len().saturating_sub(*pos));
        unsafe { ptr::copy_nonoverlapping(data[*pos..].as_ptr(), buffer as *mut u8, n) };
        *pos += n;
        if !num_read.is_null() {
            unsafe { *num_read = n as i32 };
        }
        kResultOk
    }
    unsafe fn write(&self, buffer: *mut c_void, num_bytes: int32, num_written: *mut int32) -> tresult {
        let mut guard = self.data.lock().unwrap();
        let (data, pos) = &mut *guard;
        let n = num_bytes.max(0) as usize;
        let bytes = unsafe { std::slice::from_raw_parts(buffer as *const u8, n) };
        if data.len() < *pos + n {
            data.resize(*pos + n, 0);
        }
        data[*pos..*pos + n].copy_from_slice(bytes);
        *pos += n;
        if !num_written.is_null() {
            unsafe { *num_written = n as i32 };
        }
        kResultOk
    }
    unsafe fn seek(&self, pos: int64, mode: int32, result: *mut int64) -> tresult {
        use vst3::Steinberg::IBStream_::IStreamSeekMode_::*;
        let mut guard = self.data.lock().unwrap();
        let (data, cursor) = &mut *guard;
        let base = match mode {
            m if m == kIBSeekSet as i32 => 0,
            m if m == kIBSeekCur as i32 => *cursor as i64,
            m if m == kIBSeekEnd as i32 => data.len() as i64,
            _ => return kInvalidArgument,
        };
        let target = base + pos;
        if target < 0 {
            return kResultFalse;
        }
        *cursor = target as usize;
        if !result.is_null() {
            unsafe { *result = target };
        }
        kResultOk
    }
    unsafe fn tell(&self, pos: *mut int64) -> tresult {
        if pos.is_null() {
            return kInvalidArgument;
        }
        unsafe { *pos = self.data.lock().unwrap().1 as i64 };
        kResultOk
    }
}

/// An `IEventList`: the input list holds the block's events, the output list collects what
/// the plugin adds (never beyond its preallocated room).
struct EventList {
    events: RefCell<Vec<Event>>,
}

impl Class for EventList {
    type Interfaces = (IEventList,);
}

impl IEventListTrait for EventList {
    unsafe fn getEventCount(&self) -> int32 {
        self.events.borrow().len() as i32
    }
    unsafe fn getEvent(&self, index: int32, e: *mut Event) -> tresult {
        match self.events.borrow().get(index as usize) {
            Some(event) if !e.is_null() => {
                unsafe { *e = *event };
                kResultOk
            }
            _ => kInvalidArgument,
        }
    }
    unsafe fn addEvent(&self, e: *mut Event) -> tresult {
        let mut events = self.events.borrow_mut();
        if e.is_null() || events.len() == events.capacity() {
            return kResultFalse;
        }
        events.push(unsafe { *e });
        kResultOk
    }
}

/// One parameter's changes in a block.
struct ParamQueue {
    id: u32,
    points: RefCell<Vec<(i32, f64)>>,
}

impl Class for ParamQueue {
    type Interfaces = (IParamValueQueue,);
}

impl IParamValueQueueTrait for ParamQueue {
    unsafe fn getParameterId(&self) -> ParamID {
        self.id
    }
    unsafe fn getPointCount(&self) -> int32 {
        self.points.borrow().len() as i32
    }
    unsafe fn getPoint(&self, index: int32, offset: *mut int32, value: *mut ParamValue) -> tresult {
        match self.points.borrow().get(index as usize) {
            Some(&(o, v)) if !offset.is_null() && !value.is_null() => {
                unsafe {
                    *offset = o;
                    *value = v;
                }
                kResultOk
            }
            _ => kInvalidArgument,
        }
    }
    unsafe fn addPoint(&self, _offset: int32, _value: ParamValue, _index: *mut int32) -> tresult {
        kResultFalse
    }
}

/// The block's parameter changes: one queue per parameter, in the order they were first named.
struct ParamChanges {
    queues: Vec<ComWrapper<ParamQueue>>,
}

impl Class for ParamChanges {
    type Interfaces = (IParameterChanges,);
}

impl IParameterChangesTrait for ParamChanges {
    unsafe fn getParameterCount(&self) -> int32 {
        self.queues.len() as i32
    }
    unsafe fn getParameterData(&self, index: int32) -> *mut IParamValueQueue {
        match self.queues.get(index as usize) {
            Some(queue) => queue.as_com_ref::<IParamValueQueue>().unwrap().as_ptr(),
            None => ptr::null_mut(),
        }
    }
    unsafe fn addParameterData(&self, _id: *const ParamID, _index: *mut int32) -> *mut IParamValueQueue {
        ptr::null_mut()
    }
}

// --- The host ------------------------------------------------------------------------------

fn u16_to_string(chars: &[TChar]) -> String {
    let len = chars.iter().position(|&c| c == 0).unwrap_or(chars.len());
    String::from_utf16_lossy(&chars[..len].iter().map(|&c| c as u16).collect::<Vec<_>>())
}

fn string_to_u16(s: &str) -> Vec<TChar> {
    s.encode_utf16().map(|c| c as TChar).chain(std::iter::once(0)).collect()
}

pub struct Vst3Instance {
    pub component: ComPtr<IComponent>,
    pub controller: ComPtr<IEditController>,
    pub processor: ComPtr<IAudioProcessor>,
    pub midi_mapping: Option<ComPtr<IMidiMapping>>,
    pub handler: ComWrapper<ComponentHandler>,
    pub class_name: String,
    pub sample_rate: f64,
    pub max_block: i32,
    pub tempo: f64,
    pub playing: bool,
    /// Song position of the next block, in samples.
    pub pos_samples: i64,
    /// Samples processed so far, whatever the transport did (what output events are stamped
    /// with).
    pub steady_time: i64,
    /// Every event the plugin sent, in order.
    pub output: Vec<Vst3Output>,
    /// Allocation violations counted inside `process()` calls.
    pub process_allocations: u32,
    /// How many `process()` calls did not return `kResultOk`.
    pub process_errors: u32,
    active: bool,
    processing: bool,
    input_events: ComWrapper<EventList>,
    output_events: ComWrapper<EventList>,
    left: Vec<f32>,
    right: Vec<f32>,
}

impl Vst3Instance {
    /// Creates Cadenza's VST3 component from the factory, initializes it (no host context: the
    /// wrapper ignores it) and hands it a component handler.
    pub fn new() -> Result<Self, String> {
        unsafe {
            let factory = ComPtr::<IPluginFactory>::from_raw(cadenza::GetPluginFactory() as *mut IPluginFactory)
                .ok_or("GetPluginFactory returned null")?;
            if factory.countClasses() < 1 {
                return Err("the factory lists no classes".into());
            }
            let mut info: PClassInfo = std::mem::zeroed();
            if factory.getClassInfo(0, &mut info) != kResultOk {
                return Err("getClassInfo(0) failed".into());
            }
            let class_name = std::ffi::CStr::from_ptr(info.name.as_ptr()).to_string_lossy().into_owned();
            let mut obj: *mut c_void = ptr::null_mut();
            let result = factory.createInstance(
                info.cid.as_ptr(),
                IComponent::IID.as_ptr() as *const std::ffi::c_char,
                &mut obj,
            );
            if result != kResultOk || obj.is_null() {
                return Err(format!("createInstance failed ({result})"));
            }
            let component = ComPtr::<IComponent>::from_raw(obj as *mut IComponent).unwrap();
            if component.initialize(ptr::null_mut()) != kResultOk {
                return Err("IComponent::initialize failed".into());
            }
            let controller = component.cast::<IEditController>().ok_or("no IEditController")?;
            let processor = component.cast::<IAudioProcessor>().ok_or("no IAudioProcessor")?;
            let midi_mapping = component.cast::<IMidiMapping>();

            let handler =
                ComWrapper::new(ComponentHandler { restarts: Mutex::new(Vec::new()), edits: Mutex::new(Vec::new()) });
            let handler_ptr = handler.as_com_ref::<IComponentHandler>().unwrap().as_ptr();
            if controller.setComponentHandler(handler_ptr) != kResultOk {
                return Err("setComponentHandler failed".into());
            }

            Ok(Self {
                component,
                controller,
                processor,
                midi_mapping,
                handler,
                class_name,
                sample_rate: 48_000.0,
                max_block: 0,
                tempo: 120.0,
                playing: true,
                pos_samples: 0,
                steady_time: 0,
                output: Vec::new(),
                process_allocations: 0,
                process_errors: 0,
                active: false,
                processing: false,
                input_events: ComWrapper::new(EventList { events: RefCell::new(Vec::with_capacity(4096)) }),
                output_events: ComWrapper::new(EventList {
                    events: RefCell::new(Vec::with_capacity(OUTPUT_EVENT_CAPACITY)),
                }),
                left: Vec::new(),
                right: Vec::new(),
            })
        }
    }

    /// setupProcessing (with `process_mode` for the whole session), the default bus arrangement
    /// (no audio input, stereo output), setActive(true) and setProcessing(true).
    pub fn start(&mut self, sample_rate: f64, max_block: i32, process_mode: i32) -> Result<(), String> {
        self.sample_rate = sample_rate;
        self.max_block = max_block;
        self.left = vec![0.0; max_block as usize];
        self.right = vec![0.0; max_block as usize];
        unsafe {
            let mut setup = ProcessSetup {
                processMode: process_mode,
                symbolicSampleSize: SymbolicSampleSizes_::kSample32 as i32,
                maxSamplesPerBlock: max_block,
                sampleRate: sample_rate,
            };
            if self.processor.setupProcessing(&mut setup) != kResultOk {
                return Err("setupProcessing failed".into());
            }
            let mut outputs: SpeakerArrangement = SpeakerArr::kStereo;
            let mut inputs: SpeakerArrangement = 0;
            if self.processor.setBusArrangements(&mut inputs, 0, &mut outputs, 1) != kResultOk {
                return Err("setBusArrangements failed".into());
            }
            if self.component.setActive(1) != kResultOk {
                return Err("setActive(true) failed".into());
            }
            self.active = true;
            if self.processor.setProcessing(1) != kResultOk {
                return Err("setProcessing(true) failed".into());
            }
            self.processing = true;
        }
        Ok(())
    }

    pub fn stop(&mut self) {
        unsafe {
            if self.processing {
                self.processor.setProcessing(0);
                self.processing = false;
            }
            if self.active {
                self.component.setActive(0);
                self.active = false;
            }
        }
    }

    pub fn samples_per_beat(&self) -> f64 {
        self.sample_rate * 60.0 / self.tempo
    }

    /// The `restartComponent()` flags requested so far.
    pub fn restarts(&self) -> Vec<i32> {
        self.handler.restarts.lock().unwrap().clone()
    }

    pub fn clear_restarts(&self) {
        self.handler.restarts.lock().unwrap().clear();
    }

    /// One `process()` call of `frames` samples in `process_mode`, with `inputs`. The transport
    /// advances when playing. Allocations inside the call are added to `process_allocations`.
    pub fn process(&mut self, frames: i32, process_mode: i32, inputs: &[Vst3Input]) -> tresult {
        assert!(frames <= self.max_block, "block larger than setupProcessing allowed");
        // Everything the plugin may read is built before the call.
        {
            let mut events = self.input_events.events.borrow_mut();
            events.clear();
            for input in inputs {
                if let Vst3Input::Note { offset, channel, pitch, velocity, on } = *input {
                    let mut event: Event = unsafe { std::mem::zeroed() };
                    event.busIndex = 0;
                    event.sampleOffset = offset;
                    if on {
                        event.r#type = EventTypes_::kNoteOnEvent as u16;
                        event.__field0.noteOn =
                            NoteOnEvent { channel, pitch, tuning: 0.0, velocity, length: 0, noteId: -1 };
                    } else {
                        event.r#type = EventTypes_::kNoteOffEvent as u16;
                        event.__field0.noteOff = NoteOffEvent { channel, pitch, velocity, noteId: -1, tuning: 0.0 };
                    }
                    events.push(event);
                }
            }
        }
        let mut queues: Vec<ComWrapper<ParamQueue>> = Vec::new();
        for input in inputs {
            if let Vst3Input::Param { offset, id, value } = *input {
                match queues.iter().find(|q| q.id == id) {
                    Some(queue) => queue.points.borrow_mut().push((offset, value)),
                    None => {
                        queues.push(ComWrapper::new(ParamQueue { id, points: RefCell::new(vec![(offset, value)]) }))
                    }
                }
            }
        }
        let param_changes = ComWrapper::new(ParamChanges { queues });
        self.output_events.events.borrow_mut().clear();

        let beats = self.pos_samples as f64 / self.samples_per_beat();
        let mut state = StatesAndFlags_::kTempoValid
            | StatesAndFlags_::kTimeSigValid
            | StatesAndFlags_::kProjectTimeMusicValid
            | StatesAndFlags_::kBarPositionValid
            | StatesAndFlags_::kContTimeValid;
        if self.playing {
            state |= StatesAndFlags_::kPlaying;
        }
        let mut context: ProcessContext = unsafe { std::mem::zeroed() };
        context.state = state as u32;
        context.sampleRate = self.sample_rate;
        context.projectTimeSamples = self.pos_samples;
        context.continousTimeSamples = self.steady_time;
        context.projectTimeMusic = beats;
        context.barPositionMusic = (beats / 4.0).floor() * 4.0;
        context.tempo = self.tempo;
        context.timeSigNumerator = 4;
        context.timeSigDenominator = 4;

        self.left[..frames as usize].fill(1.0);
        self.right[..frames as usize].fill(1.0);
        let mut channels = [self.left.as_mut_ptr(), self.right.as_mut_ptr()];
        let mut output_bus = AudioBusBuffers {
            numChannels: 2,
            silenceFlags: 0,
            __field0: AudioBusBuffers__type0 { channelBuffers32: channels.as_mut_ptr() },
        };
        let mut data = ProcessData {
            processMode: process_mode,
            symbolicSampleSize: SymbolicSampleSizes_::kSample32 as i32,
            numSamples: frames,
            numInputs: 0,
            numOutputs: 1,
            inputs: ptr::null_mut(),
            outputs: &mut output_bus,
            inputParameterChanges: param_changes.as_com_ref::<IParameterChanges>().unwrap().as_ptr(),
            outputParameterChanges: ptr::null_mut(),
            inputEvents: self.input_events.as_com_ref::<IEventList>().unwrap().as_ptr(),
            outputEvents: self.output_events.as_com_ref::<IEventList>().unwrap().as_ptr(),
            processContext: &mut context,
        };

        crate::reset_allocation_violations();
        let result = unsafe { self.processor.process(&mut data) };
        self.process_allocations += crate::allocation_violations();
        if result != kResultOk {
            self.process_errors += 1;
        }

        let block_start = self.steady_time;
        for event in self.output_events.events.borrow().iter() {
            let sample = block_start + event.sampleOffset as i64;
            let out = unsafe {
                match event.r#type as u32 {
                    t if t == EventTypes_::kNoteOnEvent as u32 => {
                        let e = event.__field0.noteOn;
                        Vst3Output::NoteOn { sample, channel: e.channel, pitch: e.pitch, velocity: e.velocity }
                    }
                    t if t == EventTypes_::kNoteOffEvent as u32 => {
                        let e = event.__field0.noteOff;
                        Vst3Output::NoteOff { sample, channel: e.channel, pitch: e.pitch }
                    }
                    t if t == EventTypes_::kLegacyMIDICCOutEvent as u32 => {
                        let e = event.__field0.midiCCOut;
                        Vst3Output::Controller {
                            sample,
                            channel: e.channel,
                            number: e.controlNumber,
                            value: e.value,
                            value2: e.value2,
                        }
                    }
                    kind => Vst3Output::Other { sample, kind: kind as u16 },
                }
            };
            self.output.push(out);
        }
        self.steady_time += frames as i64;
        if self.playing {
            self.pos_samples += frames as i64;
        }
        result
    }

    /// Runs `samples` samples in blocks of `block` in `process_mode`; `inputs` holds events at
    /// offsets from now (their own offsets are replaced).
    pub fn run(&mut self, samples: i64, block: i32, process_mode: i32, inputs: &[(i64, Vst3Input)]) {
        let mut done = 0i64;
        while done < samples {
            let len = (block as i64).min(samples - done);
            let block_inputs: Vec<Vst3Input> = inputs
                .iter()
                .filter(|(at, _)| (done..done + len).contains(at))
                .map(|&(at, input)| {
                    let offset = (at - done) as i32;
                    match input {
                        Vst3Input::Note { channel, pitch, velocity, on, .. } => {
                            Vst3Input::Note { offset, channel, pitch, velocity, on }
                        }
                        Vst3Input::Param { id, value, .. } => Vst3Input::Param { offset, id, value },
                    }
                })
                .collect();
            self.process(len as i32, process_mode, &block_inputs);
            done += len;
        }
    }

    /// `IComponent::getState` into a byte vector.
    pub fn get_state(&self) -> Option<Vec<u8>> {
        let stream = MemoryStream::new(Vec::new());
        let ptr = stream.as_com_ref::<IBStream>().unwrap().as_ptr();
        (unsafe { self.component.getState(ptr) } == kResultOk).then(|| stream.bytes())
    }

    /// `IComponent::setState`, then `IEditController::setComponentState` with the same bytes, as
    /// hosts do for a single-component plugin.
    pub fn set_state(&self, data: &[u8]) -> bool {
        let stream = MemoryStream::new(data.to_vec());
        let ptr = stream.as_com_ref::<IBStream>().unwrap().as_ptr();
        let ok = unsafe { self.component.setState(ptr) } == kResultOk;
        let stream = MemoryStream::new(data.to_vec());
        let ptr = stream.as_com_ref::<IBStream>().unwrap().as_ptr();
        let controller_ok = unsafe { self.controller.setComponentState(ptr) } == kResultOk;
        ok && controller_ok
    }

    pub fn parameter_count(&self) -> i32 {
        unsafe { self.controller.getParameterCount() }
    }

    pub fn parameter_info(&self, index: i32) -> Option<Vst3ParamInfo> {
        let mut info: ParameterInfo = unsafe { std::mem::zeroed() };
        (unsafe { self.controller.getParameterInfo(index, &mut info) } == kResultOk).then(|| Vst3ParamInfo {
            id: info.id,
            title: u16_to_string(&info.title),
            short_title: u16_to_string(&info.shortTitle),
            units: u16_to_string(&info.units),
            step_count: info.stepCount,
            default_normalized: info.defaultNormalizedValue,
            flags: info.flags,
        })
    }

    pub fn parameters(&self) -> Vec<Vst3ParamInfo> {
        (0..self.parameter_count()).map(|i| self.parameter_info(i).expect("getParameterInfo failed")).collect()
    }

    /// The id of the parameter titled `title`.
    pub fn param_id(&self, title: &str) -> Option<u32> {
        self.parameters().into_iter().find(|p| p.title == title).map(|p| p.id)
    }

    pub fn param_normalized(&self, id: u32) -> f64 {
        unsafe { self.controller.getParamNormalized(id) }
    }

    pub fn plain_to_normalized(&self, id: u32, plain: f64) -> f64 {
        unsafe { self.controller.plainParamToNormalized(id, plain) }
    }

    pub fn param_string(&self, id: u32, normalized: f64) -> Option<String> {
        let mut string: String128 = [0; 128];
        (unsafe { self.controller.getParamStringByValue(id, normalized, &mut string) } == kResultOk)
            .then(|| u16_to_string(&string))
    }

    pub fn param_value_from_string(&self, id: u32, text: &str) -> Option<f64> {
        let mut chars = string_to_u16(text);
        let mut value = 0.0;
        (unsafe { self.controller.getParamValueByString(id, chars.as_mut_ptr(), &mut value) } == kResultOk)
            .then_some(value)
    }

    /// The parameter `IMidiMapping` assigns to a controller on a channel of event bus 0.
    pub fn midi_assignment(&self, channel: i16, controller: i16) -> Option<u32> {
        let mapping = self.midi_mapping.as_ref()?;
        let mut id: ParamID = 0;
        (unsafe { mapping.getMidiControllerAssignment(0, channel, controller, &mut id) } == kResultOk).then_some(id)
    }

    /// Every event the plugin sent that is not a note.
    pub fn controllers(&self) -> Vec<Vst3Output> {
        self.output.iter().copied().filter(|e| !e.is_note()).collect()
    }
}

impl Drop for Vst3Instance {
    fn drop(&mut self) {
        self.stop();
        unsafe {
            self.controller.setComponentHandler(ptr::null_mut());
            self.component.terminate();
        }
    }
}

/// Note on / off inputs on channel 0.
pub fn vst3_note_on(pitch: i16, velocity: u8) -> Vst3Input {
    Vst3Input::Note { offset: 0, channel: 0, pitch, velocity: velocity as f32 / 127.0, on: true }
}

pub fn vst3_note_off(pitch: i16) -> Vst3Input {
    Vst3Input::Note { offset: 0, channel: 0, pitch, velocity: 0.0, on: false }
}
