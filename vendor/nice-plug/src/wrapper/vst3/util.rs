use std::cmp;
#[cfg(feature = "editor")]
use vst3::Steinberg::FIDString;
use vst3::Steinberg::Vst::TChar;
use widestring::U16CString;

/// When `Plugin::MIDI_INPUT` is set to `MidiConfig::MidiCCs` or higher then we reserve a parameter
/// ID range of 130*16 for MIDI CCs, channel pressure, and pitch bend, in that order. vst3 doesn't
/// expose these constants.
///
/// Cadenza patch: only the controllers in [`VST3_MIDI_CONTROLLERS`] are exposed as parameters and
/// mapped through `IMidiMapping` (16 * 11 = 176 instead of 2,080 parameters, see
/// `vendor/README.md`). The ID scheme of the reserved range is unchanged.
pub const VST3_MIDI_CCS: u32 = 130;
pub const VST3_MIDI_CHANNELS: u32 = 16;
/// The size of the reserved parameter ID range.
pub const VST3_MIDI_ID_RANGE: u32 = VST3_MIDI_CCS * VST3_MIDI_CHANNELS;
/// The start of the MIDI CC parameter ranges. We'll print an assertion failure if any of the
/// plugin's parameters overlap with this range. The mapping to a parameter index is
/// `VST3_MIDI_PARAMS_START + (cc_idx + (channel * VST3_MIDI_CCS))`.
pub const VST3_MIDI_PARAMS_START: u32 = VST3_MIDI_PARAMS_END - VST3_MIDI_ID_RANGE;
/// The (exclusive) end of the MIDI CC parameter range. Anything above this is reserved by the host.
pub const VST3_MIDI_PARAMS_END: u32 = 1 << 31;

/// Cadenza patch: one MIDI controller that gets a stand-in parameter on every channel.
#[derive(Debug, Clone, Copy)]
pub struct MidiController {
    /// The VST3 `CtrlNumber`: 0..=127 for CCs, 128 (`kAfterTouch`) for channel pressure, 129
    /// (`kPitchBend`) for pitch bend.
    pub number: u8,
    pub name: &'static str,
    /// The number of steps of the MIDI value: 127 for 7-bit values, 16383 for pitch bend.
    pub steps: u32,
    /// The value reported before the host sent anything: 0 for CCs and channel pressure, the
    /// centre for pitch bend.
    pub default: f32,
}

impl MidiController {
    const fn cc(number: u8, name: &'static str) -> Self {
        Self { number, name, steps: 127, default: 0.0 }
    }

    /// The MIDI value (0..=127, or 0..=16383 for pitch bend) of a normalized value.
    pub fn midi_value(&self, normalized: f32) -> u32 {
        (normalized.clamp(0.0, 1.0) * self.steps as f32).round() as u32
    }

    /// The value as shown to users: 0..=127, or -8192..=8191 for pitch bend.
    pub fn display_value(&self, normalized: f32) -> i32 {
        let value = self.midi_value(normalized) as i32;
        if self.number == 129 { value - 8192 } else { value }
    }

    /// The inverse of [`Self::display_value()`].
    pub fn normalized_from_display(&self, display: i32) -> f32 {
        let value = if self.number == 129 { display + 8192 } else { display };
        value.clamp(0, self.steps as i32) as f32 / self.steps as f32
    }
}

/// Cadenza patch: the controllers a player plays, the only ones exposed as stand-in parameters.
/// Everything else (bank select, data entry, NRPNs, channel mode messages 120..=127, ...) is not
/// mapped: hosts then keep those CCs to themselves.
pub const VST3_MIDI_CONTROLLERS: [MidiController; 11] = [
    MidiController::cc(1, "Mod wheel"),
    MidiController::cc(2, "Breath"),
    MidiController::cc(4, "Foot"),
    MidiController::cc(7, "Volume"),
    MidiController::cc(10, "Pan"),
    MidiController::cc(11, "Expression"),
    MidiController::cc(64, "Sustain"),
    MidiController::cc(66, "Sostenuto"),
    MidiController::cc(67, "Soft pedal"),
    MidiController::cc(128, "Channel pressure"),
    MidiController { number: 129, name: "Pitch bend", steps: 16383, default: 0.5 },
];
/// Cadenza patch: the number of stand-in parameters registered if the plugin accepts MIDI CCs.
pub const VST3_MIDI_NUM_PARAMS: u32 = VST3_MIDI_CONTROLLERS.len() as u32 * VST3_MIDI_CHANNELS;

/// Cadenza patch: the index into [`VST3_MIDI_CONTROLLERS`] of a VST3 `CtrlNumber`, if it is mapped.
pub fn midi_controller_index(number: i32) -> Option<usize> {
    VST3_MIDI_CONTROLLERS
        .iter()
        .position(|c| c.number as i32 == number)
}

/// Cadenza patch: a stand-in parameter, by slot (`channel * controllers + controller index`, the
/// order they are listed in after the plugin's own parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MidiStandIn {
    pub slot: usize,
    pub channel: u8,
    pub controller: usize,
}

impl MidiStandIn {
    pub fn from_slot(slot: usize) -> Option<Self> {
        (slot < VST3_MIDI_NUM_PARAMS as usize).then(|| Self {
            slot,
            channel: (slot / VST3_MIDI_CONTROLLERS.len()) as u8,
            controller: slot % VST3_MIDI_CONTROLLERS.len(),
        })
    }

    /// The stand-in a parameter ID belongs to, if it is one of the mapped controllers.
    pub fn from_param_id(id: u32) -> Option<Self> {
        if !(VST3_MIDI_PARAMS_START..VST3_MIDI_PARAMS_END).contains(&id) {
            return None;
        }
        let relative = id - VST3_MIDI_PARAMS_START;
        let channel = relative / VST3_MIDI_CCS;
        let controller = midi_controller_index((relative % VST3_MIDI_CCS) as i32)?;
        Some(Self {
            slot: channel as usize * VST3_MIDI_CONTROLLERS.len() + controller,
            channel: channel as u8,
            controller,
        })
    }

    pub fn info(&self) -> &'static MidiController {
        &VST3_MIDI_CONTROLLERS[self.controller]
    }

    pub fn param_id(&self) -> u32 {
        VST3_MIDI_PARAMS_START + self.info().number as u32 + self.channel as u32 * VST3_MIDI_CCS
    }

    /// `MIDI CC <0-based channel>|<controller>` is the name JUCE gives these stand-ins, which
    /// hosts such as pedalboard recognise and leave out of their parameter lists; the rest is
    /// for people.
    pub fn title(&self) -> String {
        format!(
            "MIDI CC {}|{} (Ch. {} {})",
            self.channel,
            self.info().number,
            self.channel + 1,
            self.info().name
        )
    }
}

/// Early exit out of a VST3 function when one of the passed pointers is null
macro_rules! check_null_ptr {
    ($ptr:expr $(, $ptrs:expr)* $(, )?) => {
        check_null_ptr_msg!("Null pointer passed to function", $ptr $(, $ptrs)*)
    };
}

/// The same as [`check_null_ptr!`], but with a custom message.
macro_rules! check_null_ptr_msg {
    ($msg:expr, $ptr:expr $(, $ptrs:expr)* $(, )?) => {
        if $ptr.is_null() $(|| $ptrs.is_null())* {
            crate::nice_debug_assert_failure!($msg);
            return kInvalidArgument;
        }
    };
}

/// The same as [`strlcpy()`], but for VST3's fun UTF-16 strings instead.
pub fn u16strlcpy(dest: &mut [TChar], src: &str) {
    if dest.is_empty() {
        return;
    }

    let src_utf16 = match U16CString::from_str(src) {
        Ok(s) => s,
        Err(err) => {
            crate::nice_debug_assert_failure!("Invalid UTF-16 string: {}", err);
            return;
        }
    };
    let src_utf16_chars = src_utf16.as_slice();

    // Make sure there's always room for a null terminator
    let copy_len = cmp::min(dest.len() - 1, src_utf16_chars.len());
    dest[..copy_len].copy_from_slice(&src_utf16_chars[..copy_len]);
    dest[copy_len] = 0;
}

/// Compare a host-provided [`FIDString`] to one of the SDK's string constants. These are plain C
/// string pointers, so pointer equality is not sufficient.
#[cfg(feature = "editor")]
pub unsafe fn fid_matches(type_: FIDString, expected: FIDString) -> bool {
    use std::ffi::CStr;

    unsafe { !type_.is_null() && CStr::from_ptr(type_) == CStr::from_ptr(expected) }
}

#[cfg(test)]
mod miri {
    use widestring::U16CStr;

    use super::*;

    #[test]
    fn u16strlcpy_normal() {
        let mut dest = [0; 256];
        u16strlcpy(&mut dest, "Hello, world!");

        assert_eq!(
            unsafe { U16CStr::from_ptr_str(dest.as_ptr() as *const u16) }
                .to_string()
                .unwrap(),
            "Hello, world!"
        );
    }

    #[test]
    fn u16strlcpy_overflow() {
        let mut dest = [0; 6];
        u16strlcpy(&mut dest, "Hello, world!");

        assert_eq!(
            unsafe { U16CStr::from_ptr_str(dest.as_ptr() as *const u16) }
                .to_string()
                .unwrap(),
            "Hello"
        );
    }
}
