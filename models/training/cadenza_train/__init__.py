"""Cadenza model training pipeline (data prep, training, eval, ONNX export, quantization, manifest)."""
