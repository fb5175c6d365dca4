//! Every parameter's value -> text -> value conversion round-trips, the way hosts (and
//! clap-validator's `param-conversions` test and fuzzer) use it: what a parameter shows must parse
//! back to the same plain value, and that value must show the same text again.

use std::sync::Arc;

use cadenza::params::CadenzaParams;
use cadenza::session::SessionField;
use nice_plug::prelude::{Param, ParamPtr, Params};

/// The plain value a normalized value stands for, as a number (booleans as 0/1; `ParamPtr`'s own
/// `preview_plain` passes a boolean's normalized value through unsnapped).
fn plain(param: &ParamPtr, normalized: f32) -> f32 {
    // SAFETY: `param` points into `CadenzaParams` that the caller keeps alive.
    unsafe {
        match param {
            ParamPtr::BoolParam(p) => (**p).preview_plain(normalized) as u8 as f32,
            _ => param.preview_plain(normalized),
        }
    }
}

/// Normalized values to try: a fine grid, clap-validator's 100-point grid, the ends and the default.
fn normalized_values(param: &ParamPtr) -> Vec<f32> {
    let mut values: Vec<f32> = (0..=1000).map(|i| i as f32 / 1000.0).collect();
    values.extend((0..100).map(|i| i as f32 / 99.0));
    // SAFETY: as above.
    values.push(unsafe { param.default_normalized_value() });
    values
}

#[test]
fn every_parameter_round_trips_through_its_text() {
    let params = CadenzaParams::new(Arc::new(SessionField::default()));
    let map = params.param_map();
    assert!(map.len() >= 14, "expected every Cadenza parameter in param_map(), got {}", map.len());

    let mut failures = Vec::new();
    for (id, param, _group) in &map {
        // SAFETY: `params` outlives every use of `param`.
        let name = unsafe { param.name() }.to_owned();
        for normalized in normalized_values(param) {
            let expected = plain(param, normalized);
            // With the unit (what the CLAP wrapper shows) and without it (VST3 shows it apart).
            for include_unit in [true, false] {
                // SAFETY: as above.
                let text = unsafe { param.normalized_value_to_string(normalized, include_unit) };
                let Some(parsed) = (unsafe { param.string_to_normalized_value(&text) }) else {
                    failures.push(format!("{name} ({id}): {normalized} -> {text:?} does not parse"));
                    continue;
                };
                let got = plain(param, parsed);
                // SAFETY: as above.
                let text_again = unsafe { param.normalized_value_to_string(parsed, include_unit) };
                if got != expected || text_again != text {
                    failures.push(format!(
                        "{name} ({id}): {normalized} = {expected} -> {text:?} -> {parsed} = {got} -> {text_again:?}"
                    ));
                }
            }
        }
    }
    failures.dedup();
    assert!(
        failures.is_empty(),
        "{} conversions do not round-trip, e.g.:\n{}",
        failures.len(),
        failures.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn capture_shows_armed_and_parses_it_back() {
    let params = CadenzaParams::new(Arc::new(SessionField::default()));
    let capture = &params.capture_armed;
    assert_eq!(capture.normalized_value_to_string(1.0, true), "Armed");
    assert_eq!(capture.normalized_value_to_string(0.0, true), "Off");
    for (text, armed) in [("Armed", true), ("armed", true), (" On ", true), ("Off", false), ("off", false)] {
        assert_eq!(capture.string_to_normalized_value(text), Some(if armed { 1.0 } else { 0.0 }), "{text:?}");
    }
    assert_eq!(capture.string_to_normalized_value("maybe"), None);
}
