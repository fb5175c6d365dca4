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
        kept: vec![clip(40, 2)],
    };
    host.plugin.editor_end().session().replace(session.clone());
    let saved = host.plugin.params_arc().serialize_fields();
    assert!(saved.contains_key("session"));

    let mut restored = Host::new(48_000.0);
    restored.plugin.params_arc().deserialize_fields(&saved);
    assert_eq!(*restored.plugin.editor_end().session().lock(), session);

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
    let session = host.plugin.editor_end().session().lock().clone();
    assert_eq!(session.version, SESSION_VERSION);
    assert_eq!(session.selected, Some(0));
    assert_eq!(session.inputs, [None, None]);
}

fn load_session_json(json: &str) -> Session {
    let host = Host::new(48_000.0);
    host.plugin.editor_end().session().replace(Session {
        generated: vec![clip(99, 1)],
        selected: Some(0),
        ..Session::default()
    });
    let mut saved = std::collections::BTreeMap::new();
    saved.insert("session".to_string(), json.to_string());
    host.plugin.params_arc().deserialize_fields(&saved);
    let session = host.plugin.editor_end().session().lock().clone();
    session
}

#[test]
fn an_unversioned_session_from_before_versioning_is_migrated() {
    let json = serde_json::json!({"generated": [clip(64, 2)], "selected": 0}).to_string();
    let session = load_session_json(&json);
    assert_eq!(session.version, SESSION_VERSION);
    assert_eq!(session.generated, vec![clip(64, 2)]);
    assert_eq!(session.selected, Some(0));
}

#[test]
fn a_session_from_a_newer_cadenza_or_with_garbage_loads_empty_instead_of_crashing() {
    let future = serde_json::json!({"version": SESSION_VERSION + 1, "generated": [clip(64, 2)], "selected": 0});
    assert_eq!(load_session_json(&future.to_string()), Session::default());

    let wrong_types = serde_json::json!({"version": 1, "generated": "not a list", "selected": "x"});
    assert_eq!(load_session_json(&wrong_types.to_string()), Session::default());

    let bad_note = serde_json::json!({"version": 1, "generated": [{
        "notes": [{"pitch": 60, "velocity": 100, "start": 500, "end": 100, "channel": 0}],
        "bars": 1, "time_signature": {"numerator": 4, "denominator": 4}, "is_drum": false}]});
    assert_eq!(load_session_json(&bad_note.to_string()), Session::default());
}

#[test]
fn a_session_blob_that_is_not_json_leaves_the_current_session_alone() {
    let session = load_session_json("{{{ not json");
    assert_eq!(session.generated, vec![clip(99, 1)], "nothing is lost");
}

#[test]
fn kept_clips_survive_a_new_generation_and_the_save() {
    let mut host = Host::new(48_000.0);
    host.plugin.editor_end().session().replace(Session {
        generated: vec![clip(70, 1), clip(71, 1)],
        selected: Some(0),
        ..Session::default()
    });
    host.plugin.editor_end().session().lock().set_kept(1, true);
    // A new batch replaces the generated clips.
    host.plugin.editor_end().session().lock().inputs[0] = Some(clip(60, 1));
    let settings = host.plugin.params_arc().tool_settings();
    host.plugin.editor_end().submit(settings, 1).unwrap();
    host.wait_for_engine(Duration::from_secs(5));
    let session = host.plugin.editor_end().session().lock().clone();
    assert_ne!(session.generated[0], clip(70, 1), "a new batch arrived");
    assert_eq!(session.kept, vec![clip(71, 1)], "the starred clip is still there");

    let saved = host.plugin.params_arc().serialize_fields();
    let restored = Host::new(48_000.0);
    restored.plugin.params_arc().deserialize_fields(&saved);
    assert_eq!(restored.plugin.editor_end().session().lock().kept, vec![clip(71, 1)]);
}

#[test]
fn a_generate_trigger_restored_on_by_a_load_is_not_a_press() {
    // A project saved while the trigger was high (an automation lane ending "on").
    let mut host = Host::new(48_000.0);
    cadenza_tests::set_param(&host.plugin.params_arc().generate, true);
    let saved = host.plugin.params_arc().serialize_fields();
    let mut restored = Host::new(48_000.0);
    restored.run(64, 64, &[]);
    // The host restores the parameter and the session, then re-sends every value, as Ardour does.
    cadenza_tests::set_param(&restored.plugin.params_arc().generate, true);
    restored.plugin.params_arc().deserialize_fields(&saved);
    restored.run(64 * 8, 64, &[]);
    std::thread::sleep(Duration::from_millis(50));
    restored.run(64, 64, &[]);
    let events: Vec<_> = std::iter::from_fn(|| restored.plugin.editor_end().next_event()).collect();
    assert!(events.is_empty(), "loading state ran a job: {events:?}");
    assert!(restored.output.is_empty(), "loading state sent MIDI: {:?}", restored.output);
    assert_eq!(restored.process_allocations, 0);
    // A real press afterwards still works.
    cadenza_tests::set_param(&restored.plugin.params_arc().generate, false);
    restored.run(64, 64, &[]);
    host.run(64, 64, &[]);
    cadenza_tests::set_param(&restored.plugin.params_arc().generate, true);
    restored.run(64, 64, &[]);
    let event = restored.wait_for_engine(Duration::from_secs(5));
    assert!(matches!(event, cadenza::messages::WorkerEvent::Failed { .. }), "nothing captured: {event:?}");
}
