import torch

from cadenza_train.diagnose import amortization_gap
from cadenza_train.models import SeqVAE


def tiny_vae():
    torch.manual_seed(0)
    return SeqVAE(vocab=16, emb=8, enc_hidden=8, dec_hidden=8, dec_layers=1, z_dim=4)


def test_optimising_z_per_window_fits_better_than_the_encoders_mu():
    model = tiny_vae()
    windows = torch.randint(0, 16, (6, 12), generator=torch.Generator().manual_seed(1))
    r = amortization_gap(model, windows, steps=30, lr=0.1)
    assert r["windows"] == 6
    assert r["at_optimised_z"]["nll"] < r["at_mu"]["nll"] - 0.01
    assert r["at_optimised_z"]["z_norm"] != r["at_mu"]["z_norm"]


def test_the_diagnosis_leaves_the_model_as_it_was():
    model = tiny_vae()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    amortization_gap(model, torch.randint(0, 16, (3, 12)), steps=5)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.requires_grad for p in model.parameters())
