from pathlib import Path

PKG_DIR = Path(__file__).resolve().parent
TRAINING_DIR = PKG_DIR.parent
MODELS_DIR = TRAINING_DIR.parent
REPO_ROOT = MODELS_DIR.parent
SPEC_PATH = MODELS_DIR / "spec" / "encoding.json"
GOLDEN_DIR = MODELS_DIR / "spec" / "golden"
DATASETS = REPO_ROOT.parent / "shared" / "datasets"
DATA_DIR = TRAINING_DIR / "data"
RUNS_DIR = TRAINING_DIR / "runs"
# the training pipeline's own Python ONNX renders (checks while training); models/samples/cli/ is the Rust CLI's
SAMPLES_DIR = RUNS_DIR / "samples"
MANIFEST_PATH = MODELS_DIR / "manifest.json"
