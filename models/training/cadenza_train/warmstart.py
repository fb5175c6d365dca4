"""Warm start from a shipped int8 model (issue 17): the training checkpoints of the shipped models are not kept, so
their int8 ONNX graphs are dequantized back into a SeqVAE ((q - zero_point) * scale per tensor or per LSTM
direction). ONNX orders LSTM gates i, o, f, c and stores DynamicQuantizeLSTM weights as [dir, input, 4H];
torch orders i, f, g, o with weights [4H, input]."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

ONNX_TO_TORCH_GATES = [0, 2, 3, 1]  # torch i, f, g, o from onnx i, o, f, c


def _inits(path):
    m = onnx.load(str(path))
    return m, {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}


def _deq(init, name):
    q = init[f"{name}_quantized"].astype(np.float32)
    s = init[f"{name}_scale"].astype(np.float32)
    z = init[f"{name}_zero_point"].astype(np.float32)
    if s.ndim == 1 and q.ndim == 3:  # per direction
        s, z = s[:, None, None], z[:, None, None]
    return (q - z) * s


def _gates(w, H):
    """[..., 4H] (onnx order) -> same with torch order."""
    blocks = [w[..., k * H:(k + 1) * H] for k in range(4)]
    return np.concatenate([blocks[k] for k in ONNX_TO_TORCH_GATES], axis=-1)


def _lstm(node, init, H):
    """-> per direction (w_ih [4H, in], w_hh [4H, H], b_ih, b_hh) from a DynamicQuantizeLSTM node."""
    W = _deq(init, node.input[1][:-len("_quantized")])  # [dir, in, 4H]
    R = _deq(init, node.input[2][:-len("_quantized")])  # [dir, H, 4H]
    B = init[node.input[3]]  # [dir, 8H]
    out = []
    for d in range(W.shape[0]):
        out.append((_gates(W[d], H).T, _gates(R[d], H).T, _gates(B[d, :4 * H], H), _gates(B[d, 4 * H:], H)))
    return out


def _matmul_weight(m, init, prefix):
    """Dequantized weight [in, out] of the MatMulInteger whose weight name starts with prefix."""
    for n in m.graph.node:
        if n.op_type == "MatMulInteger" and n.input[1].startswith(prefix):
            return _deq(init, n.input[1][:-len("_quantized")])
    raise KeyError(prefix)


def load_vae_from_onnx(model, models_dir: Path, base: str):
    sd = {}
    me, ie = _inits(Path(models_dir) / f"{base}.encoder.onnx")
    mi, ii = _inits(Path(models_dir) / f"{base}.init.onnx")
    md, idd = _inits(Path(models_dir) / f"{base}.decoder.onnx")
    H = model.encoder.hidden_size
    sd["enc_embed.emb.weight"] = _deq(ie, "m.enc_embed.emb.weight")
    sd["dec_embed.emb.weight"] = _deq(idd, "m.dec_embed.emb.weight")
    if hasattr(model.enc_embed, "bit_proj"):
        sd["enc_embed.bit_proj.weight"] = _matmul_weight(me, ie, "onnx::MatMul").T
        sd["dec_embed.bit_proj.weight"] = _matmul_weight(md, idd, "onnx::MatMul").T
    enc_nodes = [n for n in me.graph.node if n.op_type == "DynamicQuantizeLSTM"]
    for d, (wih, whh, bih, bhh) in enumerate(_lstm(enc_nodes[0], ie, H)):
        sfx = "_reverse" if d == 1 else ""
        sd[f"encoder.weight_ih_l0{sfx}"], sd[f"encoder.weight_hh_l0{sfx}"] = wih, whh
        sd[f"encoder.bias_ih_l0{sfx}"], sd[f"encoder.bias_hh_l0{sfx}"] = bih, bhh
    for k in ("mu", "sig"):
        sd[f"{k}.weight"] = _deq(ie, f"m.{k}.weight").T
        sd[f"{k}.bias"] = ie[f"m.{k}.bias"]
    sd["z_init.weight"] = _deq(ii, "m.z_init.weight").T
    sd["z_init.bias"] = ii["m.z_init.bias"]
    Hd = model.dec_hidden
    for layer, n in enumerate([n for n in md.graph.node if n.op_type == "DynamicQuantizeLSTM"]):
        wih, whh, bih, bhh = _lstm(n, idd, Hd)[0]
        sd[f"decoder.weight_ih_l{layer}"], sd[f"decoder.weight_hh_l{layer}"] = wih, whh
        sd[f"decoder.bias_ih_l{layer}"], sd[f"decoder.bias_hh_l{layer}"] = bih, bhh
    sd["out.weight"] = _deq(idd, "m.out.weight").T
    sd["out.bias"] = idd["m.out.bias"]
    own = model.state_dict()
    missing = [k for k in own if k not in sd]
    if missing:
        raise KeyError(f"warm start: no ONNX weights for {missing}")
    for k, v in sd.items():
        if tuple(own[k].shape) != tuple(v.shape):
            raise ValueError(f"warm start: {k} {tuple(v.shape)} vs model {tuple(own[k].shape)}")
    model.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in sd.items()})
    return model
