//! The `cadenza-cli` command line: files out, exit codes and messages.

// The engine's test helpers (models, runtime library, fixture clips, scratch folders), shared.
#[path = "../../engine/tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;

use cadenza_music::{export_midi, import_midi_file, ExportOptions, ImportOptions, TimeSignature};
use common::*;

fn cadenza() -> Command {
    let config = config();
    let mut c = Command::new(env!("CARGO_BIN_EXE_cadenza-cli"));
    c.env("CADENZA_ORT_LIB", &config.runtime_lib).env("CADENZA_MODELS_DIR", &config.models_dir);
    c
}

fn write_mid(path: &Path, clip: &cadenza_music::Clip) {
    std::fs::write(path, export_midi(clip, &ExportOptions::default()).unwrap()).unwrap();
}

#[test]
fn continue_writes_one_mid_and_png_per_variation() {
    let _ = engine_with("melody_rnn");
    let dir = scratch("cli-continue");
    let input = dir.join("a.mid");
    write_mid(&input, &melody_a());
    let out = dir.join("out");
    let o = cadenza()
        .args(["continue", "--input"])
        .arg(&input)
        .args([
            "--variations",
            "3",
            "--bars",
            "2",
            "--temperature",
            "0.9",
            "--seed",
            "4",
            "--key",
            "C:major",
            "--png",
            "-q",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for i in 1..=3 {
        let mid = out.join(format!("continue_{i:02}.mid"));
        let clip = import_midi_file(&mid, &ImportOptions::default()).unwrap().clip;
        assert_eq!(clip.bars, 4);
        let png = std::fs::read(out.join(format!("continue_{i:02}.png"))).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}

#[test]
fn exit_codes_and_messages() {
    let dir = scratch("cli-errors");
    // Not a MIDI file: input error (3).
    let bad = dir.join("bad.mid");
    std::fs::write(&bad, b"hello").unwrap();
    let o = cadenza().args(["continue", "-q", "--input"]).arg(&bad).arg("--out").arg(dir.join("o")).output().unwrap();
    assert_eq!(o.status.code(), Some(3));
    let msg = String::from_utf8_lossy(&o.stderr);
    assert!(msg.contains("bad.mid") && msg.contains("MIDI"), "{msg}");

    // 3/4: input error naming the meter.
    let mut waltz = melody_a();
    waltz.time_signature = TimeSignature { numerator: 3, denominator: 4 };
    let w = dir.join("waltz.mid");
    write_mid(&w, &waltz);
    let o = cadenza().args(["continue", "-q", "--input"]).arg(&w).arg("--out").arg(dir.join("o")).output().unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("3/4"));

    // Missing runtime: installation error (4).
    let good = dir.join("a.mid");
    write_mid(&good, &melody_a());
    let o = cadenza()
        .env("CADENZA_ORT_LIB", "/nonexistent/libonnxruntime.so.1.31.1")
        .args(["continue", "-q", "--input"])
        .arg(&good)
        .arg("--out")
        .arg(dir.join("o"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&o.stderr).contains("ONNX Runtime was not found"));

    // Bad arguments: clap's usage error (2).
    let o = cadenza().args(["continue", "--key", "H:major", "--out", "x"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = cadenza()
        .args(["continue", "--variations", "40", "-q", "--input"])
        .arg(&good)
        .arg("--out")
        .arg(dir.join("o"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("variations"));
}

#[test]
fn every_subcommand_writes_its_files() {
    let dir = scratch("cli-all");
    let (a, b, beat) = (dir.join("a.mid"), dir.join("b.mid"), dir.join("beat.mid"));
    write_mid(&a, &melody_a());
    write_mid(&b, &melody_b());
    write_mid(&beat, &drums_a());
    /// (subcommand, inputs, extra arguments, files written, bars per file)
    type Case<'a> = (&'a str, Vec<&'a Path>, Vec<&'a str>, usize, u16);
    let cases: Vec<Case> = vec![
        ("generate", vec![], vec!["--mode", "drums", "-n", "2", "-b", "8"], 2, 8),
        ("interpolate", vec![&a, &b], vec!["--steps", "3"], 3, 4),
        ("drumify", vec![&a], vec!["-n", "2"], 2, 2),
        ("groove", vec![&beat], vec!["-n", "1"], 1, 4),
        ("continue", vec![&beat], vec!["-n", "1", "-b", "2", "--continuation-only"], 1, 2),
    ];
    for (tool, inputs, extra, files, bars) in cases {
        let out = dir.join(tool);
        let mut cmd = cadenza();
        cmd.arg(tool).arg("-q").arg("--png").arg("--out").arg(&out).args(&extra);
        for i in inputs {
            cmd.arg("--input").arg(i);
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{tool}: {}", String::from_utf8_lossy(&o.stderr));
        for i in 1..=files {
            let mid = out.join(format!("{tool}_{i:02}.mid"));
            let clip = import_midi_file(&mid, &ImportOptions::default()).unwrap().clip;
            assert_eq!(clip.bars, bars, "{tool}");
            assert!(out.join(format!("{tool}_{i:02}.png")).is_file());
        }
        assert!(!out.join(format!("{tool}_{:02}.mid", files + 1)).exists());
    }
}
