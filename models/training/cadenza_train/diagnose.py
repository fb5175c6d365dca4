"""Where a sequence VAE loses its reconstruction accuracy: the encoder or the decoder.

The amortization gap: for each held-out window, compare the decoder's teacher-forced accuracy at the
encoder's mu with its accuracy at a z optimised for that window alone (Adam on z, decoder frozen).
A large gap says the decoder could play the window back but the encoder does not find the z;
a small one says the decoder itself is the limit. The optimised z is also scored with the encoder's
posterior noise added, which tells a usable z from a brittle point that only an exact z decodes.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def _tf_scores(model, z, x):
    logits = model.decode_tf(z, x)
    nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x.reshape(-1))
    acc = (logits.argmax(-1) == x).float().mean()
    return nll, acc


def amortization_gap(model, windows: torch.Tensor, steps: int = 50, lr: float = 0.05) -> dict:
    """windows: [N, T] token ids. Returns NLL per step, accuracy and mean |z| at the encoder's mu
    and after `steps` Adam steps on z (per window; the model's weights are left untouched), and the
    accuracy at that z plus noise of the encoder's sigma."""
    model.eval()
    wanted = [p.requires_grad for p in model.parameters()]
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        with torch.no_grad():
            mu, sigma = model.encode(windows)
            nll0, acc0 = _tf_scores(model, mu, windows)
        z = mu.clone().requires_grad_(True)
        opt = torch.optim.Adam([z], lr=lr)
        for _ in range(steps):
            # each window's loss depends only on its own z, and Adam scales each coordinate on its own,
            # so one batch optimises every window's z independently
            nll, _ = _tf_scores(model, z, windows)
            opt.zero_grad()
            nll.backward()
            opt.step()
        with torch.no_grad():
            nll1, acc1 = _tf_scores(model, z, windows)
            noise = torch.randn(z.shape, generator=torch.Generator().manual_seed(0))
            _, acc_noisy = _tf_scores(model, z + sigma * noise, windows)
    finally:
        for p, w in zip(model.parameters(), wanted):
            p.requires_grad_(w)
    return {"windows": int(windows.shape[0]), "z_steps": steps,
            "at_mu": {"nll": round(nll0.item(), 4), "tf_acc": round(acc0.item(), 4),
                      "z_norm": round(mu.norm(dim=-1).mean().item(), 2)},
            "at_optimised_z": {"nll": round(nll1.item(), 4), "tf_acc": round(acc1.item(), 4),
                               "z_norm": round(z.detach().norm(dim=-1).mean().item(), 2),
                               "tf_acc_with_posterior_noise": round(acc_noisy.item(), 4)}}
