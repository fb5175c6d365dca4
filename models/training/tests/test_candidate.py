"""candidate.merge_variant: one GrooVAE variant replaced, the other kept exactly as shipped."""
import json
from pathlib import Path

from cadenza_train.candidate import merge_variant

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.json"


def run_record():
    return {"experiment": "drumify_v2", "hyperparameters": {"dec_hidden": 256, "seed": 15},
            "datasets": [{"id": "groove_midi", "share_of_each_batch": 0.7}, {"id": "mma_grooves"}],
            "steps": 1200, "best_step": 1000, "train_seconds": 300.0,
            "history": [{"step": 1000, "elapsed_s": 250.0, "valid": {"f1": 0.61, "select": 0.4}}],
            "hardware": {"torch_threads": 2}, "calibration": {"threshold": 0.3, "train_f1": 0.65},
            "parity": {"decoder_int8_vs_fp32_max_abs_hit_logits": 0.03},
            "graphs": {"encoder": {"sha256": "e" * 64, "bytes": 11}, "decoder": {"sha256": "d" * 64, "bytes": 22}}}


def test_merge_replaces_drumify_and_keeps_groove():
    shipped = json.loads(MANIFEST.read_text())["models"]["groove_vae"]
    before = json.dumps(shipped, sort_keys=True)
    e = merge_variant(shipped, "drumify", run_record())
    assert json.dumps(shipped, sort_keys=True) == before  # the input entry is not modified
    for part in ("encoder", "decoder"):
        assert e["graphs"][f"drumify_{part}"]["bytes"] in (11, 22)
        assert e["graphs"][f"drumify_{part}"]["file"] == shipped["graphs"][f"drumify_{part}"]["file"]
        assert e["graphs"][f"groove_{part}"] == shipped["graphs"][f"groove_{part}"]
    assert e["hyperparameters"]["drumify"] == {"dec_hidden": 256, "seed": 15}
    old_hp = shipped["hyperparameters"]
    assert e["hyperparameters"]["groove"] == (old_hp["groove"] if "groove" in old_hp else old_hp)
    assert [d["id"] for d in e["datasets"]["drumify"]] == ["groove_midi", "mma_grooves"]
    old_ds = shipped["datasets"]
    assert e["datasets"]["groove"] == (old_ds["groove"] if isinstance(old_ds, dict) else old_ds)
    assert e["training"]["steps"]["drumify"] == 1200 and e["training"]["best_step"]["drumify"] == 1000
    assert e["training"]["steps"]["groove"] == shipped["training"]["steps"]["groove"]
    assert e["training"]["train_seconds"] == round(
        300.0 + shipped["training"]["train_seconds_per_variant"]["groove"], 1)
    assert e["training_curve"]["drumify"] == [{"step": 1000, "elapsed_s": 250.0, "valid": {"f1": 0.61}}]
    assert e["training_curve"]["groove"] == shipped["training_curve"]["groove"]
    assert e["hit_threshold_calibration"]["drumify"]["threshold"] == 0.3
    assert e["hit_threshold_calibration"]["groove"] == shipped["hit_threshold_calibration"]["groove"]
    assert e["parity"]["groove"] == shipped["parity"]["groove"]
    assert e["training"]["experiments"]["drumify"]["experiment"] == "drumify_v2"
    assert "metrics" not in e


def test_merging_twice_keeps_one_record_per_variant():
    shipped = json.loads(MANIFEST.read_text())["models"]["groove_vae"]
    once = merge_variant(shipped, "drumify", run_record())
    twice = merge_variant(once, "drumify", dict(run_record(), steps=5000))
    assert set(twice["hyperparameters"]) == {"drumify", "groove"}
    assert twice["hyperparameters"]["groove"] == once["hyperparameters"]["groove"]
    assert twice["training"]["steps"]["drumify"] == 5000


def test_previous_version_keeps_the_scores_and_one_step_of_history():
    shipped = json.loads(MANIFEST.read_text())["models"]["melody_rnn"]
    from cadenza_train.candidate import previous_version
    pv = previous_version(shipped)
    assert pv["honest_metrics"] == shipped["honest_metrics"]
    assert pv["sample_statistics"] == shipped["sample_statistics"]
    assert "previous_version" not in pv and "graphs" not in pv
