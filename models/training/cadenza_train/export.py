"""ONNX export (opset 17, TorchScript exporter, dynamic batch), int8 dynamic quantization, parity checks."""
from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic

from .models import GrooveDecG, GrooveEncG, LMStep, VAEEncoderG, VAEInitG, VAEStepG

OPSET = 17


def sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _export(module, args, path, in_names, out_names, dyn):
    module.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, str(path), dynamo=False, opset_version=OPSET, input_names=in_names,
                          output_names=out_names, dynamic_axes=dyn, do_constant_folding=True)
    m = onnx.load(str(path))
    onnx.checker.check_model(m)


def quantize(fp32_path: Path, int8_path: Path):
    import logging

    logging.getLogger().setLevel(logging.ERROR)
    quantize_dynamic(str(fp32_path), str(int8_path), weight_type=QuantType.QInt8)
    ops = sorted({n.op_type for n in onnx.load(str(int8_path)).graph.node})
    return ops


def session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def io_spec(path):
    s = session(path)

    def d(x):
        return {"name": x.name, "shape": [v if isinstance(v, int) else str(v) for v in x.shape],
                "dtype": {"float": "float32"}.get(x.type[7:-1], x.type[7:-1])}

    return {"inputs": [d(x) for x in s.get_inputs()], "outputs": [d(x) for x in s.get_outputs()]}


def run_graph(path, feeds):
    return session(path).run(None, feeds)


def parity(fp32, int8, feeds):
    a = run_graph(fp32, feeds)
    b = run_graph(int8, feeds)
    return float(max(np.abs(x - y).max() for x, y in zip(a, b)))


def torch_parity(module, torch_args, fp32, feeds):
    with torch.no_grad():
        t = module(*torch_args)
    t = t if isinstance(t, (tuple, list)) else (t,)
    o = run_graph(fp32, feeds)
    return float(max(np.abs(x.numpy() - y).max() for x, y in zip(t, o)))


BATCH = {0: "batch"}


def export_lm(model, out_dir: Path, name: str, sample_tokens: np.ndarray):
    """Graph: token[int64 B], h[L,B,H], c[L,B,H] -> logits[B,V], h_out, c_out."""
    out_dir.mkdir(parents=True, exist_ok=True)
    step = LMStep(model).eval()
    B, L, H = 3, model.layers, model.hidden
    tok = torch.tensor(sample_tokens[:B], dtype=torch.long)
    h = torch.randn(L, B, H) * 0.3
    c = torch.randn(L, B, H) * 0.3
    fp32 = out_dir / f"{name}.fp32.onnx"
    int8 = out_dir / f"{name}.onnx"
    dyn = {"token": BATCH, "h": {1: "batch"}, "c": {1: "batch"}, "logits": BATCH, "h_out": {1: "batch"},
           "c_out": {1: "batch"}}
    _export(step, (tok, h, c), fp32, ["token", "h", "c"], ["logits", "h_out", "c_out"], dyn)
    ops = quantize(fp32, int8)
    # parity over a real sequence driven step by step, batch 5 (dynamic batch check)
    seq = np.asarray(sample_tokens, np.int64)
    Bp = 5
    feeds_list = []
    hh = np.zeros((L, Bp, H), np.float32)
    cc = np.zeros((L, Bp, H), np.float32)
    s32, s8 = session(fp32), session(int8)
    hq, cq = hh.copy(), cc.copy()
    maxdiff = 0.0
    for t in range(min(64, len(seq))):
        tk = np.full((Bp,), seq[t], np.int64)
        a = s32.run(None, {"token": tk, "h": hh, "c": cc})
        b = s8.run(None, {"token": tk, "h": hq, "c": cq})
        maxdiff = max(maxdiff, float(np.abs(a[0] - b[0]).max()))
        hh, cc = a[1], a[2]
        hq, cq = b[1], b[2]
    tp = torch_parity(step, (tok, h, c), fp32, {"token": tok.numpy(), "h": h.numpy(), "c": c.numpy()})
    return {"files": {"step": int8}, "fp32": {"step": fp32}, "ops": {"step": ops},
            "parity": {"int8_vs_fp32_max_abs_logit_diff_64_steps": maxdiff, "fp32_onnx_vs_torch_max_abs": tp}}


def export_vae(model, out_dir: Path, name: str, sample_windows: np.ndarray):
    out_dir.mkdir(parents=True, exist_ok=True)
    T = sample_windows.shape[1]
    Z, L, H = model.z_dim, model.dec_layers, model.dec_hidden
    enc_g, init_g, step_g = VAEEncoderG(model).eval(), VAEInitG(model).eval(), VAEStepG(model).eval()
    x = torch.tensor(sample_windows[:3], dtype=torch.long)
    z = torch.randn(3, Z)
    h = torch.randn(L, 3, H) * 0.3
    c = torch.randn(L, 3, H) * 0.3
    tok = x[:, 0]
    paths = {}
    ops = {}
    p = {}
    specs = [
        ("encoder", enc_g, (x,), ["tokens"], ["mu", "sigma"], {"tokens": BATCH, "mu": BATCH, "sigma": BATCH}),
        ("init", init_g, (z,), ["z"], ["h0", "c0"], {"z": BATCH, "h0": {1: "batch"}, "c0": {1: "batch"}}),
        ("decoder", step_g, (tok, z, h, c), ["token", "z", "h", "c"], ["logits", "h_out", "c_out"],
         {"token": BATCH, "z": BATCH, "h": {1: "batch"}, "c": {1: "batch"}, "logits": BATCH,
          "h_out": {1: "batch"}, "c_out": {1: "batch"}}),
    ]
    fp = {}
    for part, mod, args, ins, outs, dyn in specs:
        f32 = out_dir / f"{name}.{part}.fp32.onnx"
        i8 = out_dir / f"{name}.{part}.onnx"
        _export(mod, args, f32, ins, outs, dyn)
        ops[part] = quantize(f32, i8)
        paths[part] = i8
        fp[part] = f32
        feeds = {n: a.numpy() for n, a in zip(ins, args)}
        p[f"{part}_fp32_onnx_vs_torch_max_abs"] = torch_parity(mod, args, f32, feeds)
    # int8 vs fp32 on a real window, batch 7: encoder mu, then 64 decoded steps teacher forced
    xb = np.asarray(sample_windows[:7], np.int64)
    e32 = run_graph(fp["encoder"], {"tokens": xb})
    e8 = run_graph(paths["encoder"], {"tokens": xb})
    p["encoder_int8_vs_fp32_max_abs_mu"] = float(np.abs(e32[0] - e8[0]).max())
    zz = e32[0].astype(np.float32)
    i32 = run_graph(fp["init"], {"z": zz})
    i8 = run_graph(paths["init"], {"z": zz})
    p["init_int8_vs_fp32_max_abs"] = float(max(np.abs(a - b).max() for a, b in zip(i32, i8)))
    s32, s8 = session(fp["decoder"]), session(paths["decoder"])
    h32, c32 = i32
    h8, c8 = i8
    tk = np.full((len(xb),), model.start_token, np.int64)
    md = 0.0
    for t in range(T):
        a = s32.run(None, {"token": tk, "z": zz, "h": h32, "c": c32})
        b = s8.run(None, {"token": tk, "z": zz, "h": h8, "c": c8})
        md = max(md, float(np.abs(a[0] - b[0]).max()))
        h32, c32, h8, c8 = a[1], a[2], b[1], b[2]
        tk = xb[:, t]
    p["decoder_int8_vs_fp32_max_abs_logit_diff_64_steps"] = md
    return {"files": paths, "fp32": fp, "ops": ops, "parity": p}


def export_groove(model, out_dir: Path, name: str, X: np.ndarray):
    out_dir.mkdir(parents=True, exist_ok=True)
    enc_g, dec_g = GrooveEncG(model).eval(), GrooveDecG(model).eval()
    x = torch.from_numpy(X[:3])
    z = torch.randn(3, model.z_dim)
    paths, fp, ops, p = {}, {}, {}, {}
    specs = [
        ("encoder", enc_g, (x,), ["input"], ["mu", "sigma"], {"input": BATCH, "mu": BATCH, "sigma": BATCH}),
        ("decoder", dec_g, (z, x), ["z", "input"], ["groove", "hit_logits"],
         {"z": BATCH, "input": BATCH, "groove": BATCH, "hit_logits": BATCH}),
    ]
    for part, mod, args, ins, outs, dyn in specs:
        f32 = out_dir / f"{name}.{part}.fp32.onnx"
        i8 = out_dir / f"{name}.{part}.onnx"
        _export(mod, args, f32, ins, outs, dyn)
        ops[part] = quantize(f32, i8)
        paths[part], fp[part] = i8, f32
        feeds = {n: a.numpy() for n, a in zip(ins, args)}
        p[f"{part}_fp32_onnx_vs_torch_max_abs"] = torch_parity(mod, args, f32, feeds)
    xb = X[:9]
    e32 = run_graph(fp["encoder"], {"input": xb})
    e8 = run_graph(paths["encoder"], {"input": xb})
    p["encoder_int8_vs_fp32_max_abs_mu"] = float(np.abs(e32[0] - e8[0]).max())
    d32 = run_graph(fp["decoder"], {"z": e32[0], "input": xb})
    d8 = run_graph(paths["decoder"], {"z": e32[0], "input": xb})
    p["decoder_int8_vs_fp32_max_abs_groove"] = float(np.abs(d32[0] - d8[0]).max())
    p["decoder_int8_vs_fp32_max_abs_hit_logits"] = float(np.abs(d32[1] - d8[1]).max())
    return {"files": paths, "fp32": fp, "ops": ops, "parity": p}


def check_quantized_lstm(ops: dict) -> bool:
    return all(any(o in ("DynamicQuantizeLSTM",) for o in v) for k, v in ops.items() if k != "init")
