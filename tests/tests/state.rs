//! The persisted session survives serialization the way the host saves it.

use std::time::Duration;

use cadenza::music::{Clip, Note, TimeSignature};
use cadenza::session::{Session, SESSION_VERSION};
use cadenza_tests::Host;
use nice_plug::prelude::Params;

fn clip(pitch: u8, bars: u16) -> Clip {
    Clip {
        notes: vec![Note { pitch, velocity: 77, start: 120, end: 600, channel: 0 }],
        bars,
        time_signature: TimeSignature::FOUR_FOUR,
        is_drum: false,
    }
}

#[test]
fn session_round_trips_through_the_persisted_fields() {
    let host = Host::new(48_000.0);
    let session = Session {
        version: SESSION_VERSION,
        inputs: [Some(clip(60, 2)), Some(clip(62, 4))],
        generated: vec![clip(70, 1), clip(71, 1), clip(72, 1)],
        selected: Some(2),
    };
    host.plugin.engine().session.replace(session.clone());
    let saved = host.plugin.params_arc().serialize_fields();
    assert!(saved.contains_key("session"));

    let mut restored = Host::new(48_000.0);
    restored.plugin.params_arc().deserialize_fields(&saved);
    assert_eq!(*restored.plugin.engine().session.lock(), session);

    // The restored selection reaches the player without anyone asking.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while restored.plugin.player().clip().map(|c| c.variation) != Some(2) {
        assert!(std::time::Instant::now() < deadline, "the restored selection never reached the player");
        restored.run(64, 64, &[]);
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_selection_past_the_list_is_repaired_on_load() {
    let host = Host::new(48_000.0);
    let mut saved = std::collections::BTreeMap::new();
    saved.insert(
        "session".to_string(),
        serde_json::json!({"version": 0, "generated": [clip(60, 1)], "selected": 5}).to_string(),
    );
    host.plugin.params_arc().deserialize_fields(&saved);
    let session = host.plugin.engine().session.lock().clone();
    assert_eq!(session.version, SESSION_VERSION);
    assert_eq!(session.selected, Some(0));
    assert_eq!(session.inputs, [None, None]);
}
