//! Feeds arbitrary bytes to the plugin's state loading, the way a host hands back a saved
//! project: as the `session` persisted field, through nice-plug's own deserialization path.
//! It must never panic, and whatever loads must be a usable session.
#![no_main]

use std::collections::BTreeMap;

use cadenza::Cadenza;
use libfuzzer_sys::fuzz_target;
use nice_plug::prelude::{Params, Plugin};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let plugin = Cadenza::default();
    let mut fields = BTreeMap::new();
    fields.insert("session".to_string(), text);
    plugin.params().deserialize_fields(&fields);
    let session = plugin.editor_end().session().lock().clone();
    if let Some(selected) = session.selected {
        assert!(selected < session.generated.len(), "a selection past the list survived loading");
    }
    for clip in session.inputs.iter().flatten().chain(&session.generated) {
        assert!(clip.notes.iter().all(|n| n.end > n.start && n.pitch < 128));
        let _ = cadenza::messages::PlaybackClip::from_clip(clip, 0);
    }
});
