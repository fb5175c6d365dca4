//! Fuzzes the MIDI importer with arbitrary bytes: it must never panic, every clip it returns must
//! be valid, encoding it must not panic, and export -> import must reach a fixed point after one
//! round (the first round may re-pair nested same-pitch notes, which MIDI cannot express).
#![no_main]

use cadenza_music::{
    encode_drums, encode_groove, encode_melody, encode_tap, export_midi, import_midi, DrumMap, ExportOptions,
    ImportOptions,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = ImportOptions { max_notes: 100_000, ..ImportOptions::default() };
    let Ok(m) = import_midi(data, &options) else { return };
    let clip = &m.clip;
    assert!(clip.validate().is_ok(), "importer produced an invalid clip: {clip:?}");
    if clip.bars <= 64 {
        let map = DrumMap::default();
        let _ = encode_melody(clip);
        let _ = encode_drums(clip, &map);
        let _ = encode_groove(clip, &map);
        let _ = encode_tap(clip);
    }
    let export = ExportOptions { tempo_us_per_quarter: m.tempo_us_per_quarter, track_name: "fuzz".into(), ..ExportOptions::default() };
    let Ok(bytes) = export_midi(clip, &export) else { return };
    let once = import_midi(&bytes, &options).expect("exported file imports").clip;
    let bytes = export_midi(&once, &export).expect("re-export");
    let twice = import_midi(&bytes, &options).expect("re-exported file imports").clip;
    assert_eq!(once, twice);
});
