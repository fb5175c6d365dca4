"""PyTorch models and their single-step / whole-sequence export wrappers."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def drum_bit_table(vocab: int, nbits: int) -> torch.Tensor:
    t = torch.arange(vocab).unsqueeze(1)
    return ((t >> torch.arange(nbits).unsqueeze(0)) & 1).float()


class TokenEmbed(nn.Module):
    """Learned embedding; for drum tokens also the 9 bits of the bitmask through a linear layer."""

    def __init__(self, vocab: int, dim: int, drum_bits: int = 0, extra_tokens: int = 0):
        super().__init__()
        self.emb = nn.Embedding(vocab + extra_tokens, dim)
        self.drum_bits = drum_bits
        if drum_bits:
            tab = drum_bit_table(vocab + extra_tokens, drum_bits)
            if extra_tokens:
                tab[vocab:] = 0.0
            self.register_buffer("bits", tab, persistent=False)
            self.bit_proj = nn.Linear(drum_bits, dim, bias=False)

    def forward(self, tok):
        x = self.emb(tok)
        if self.drum_bits:
            x = x + self.bit_proj(self.bits[tok])
        return x


class LSTMLM(nn.Module):
    def __init__(self, vocab: int, emb: int, hidden: int, layers: int, dropout: float = 0.1, drum_bits: int = 0):
        super().__init__()
        self.vocab, self.hidden, self.layers = vocab, hidden, layers
        self.embed = TokenEmbed(vocab, emb, drum_bits)
        self.lstm = nn.LSTM(emb, hidden, layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, tokens, state=None):
        x = self.embed(tokens)
        y, state = self.lstm(x, state)
        return self.out(self.drop(y)), state


class LMStep(nn.Module):
    """token[B], h[L,B,H], c[L,B,H] -> logits[B,V], h_out, c_out"""

    def __init__(self, lm: LSTMLM):
        super().__init__()
        self.lm = lm

    def forward(self, token, h, c):
        x = self.lm.embed(token).unsqueeze(1)
        y, (h2, c2) = self.lm.lstm(x, (h, c))
        return self.lm.out(y[:, 0]), h2, c2


class SeqVAE(nn.Module):
    """MusicVAE-style: BiLSTM encoder -> mu, sigma; z -> initial LSTM state; decoder input = [emb(prev), z]."""

    def __init__(self, vocab: int, emb: int, enc_hidden: int, dec_hidden: int, dec_layers: int, z_dim: int,
                 drum_bits: int = 0, dropout: float = 0.1, word_dropout: float = 0.0):
        super().__init__()
        self.vocab, self.z_dim = vocab, z_dim
        self.dec_hidden, self.dec_layers = dec_hidden, dec_layers
        self.start_token = vocab  # extra embedding row fed as the previous token at step 0
        self.word_dropout = word_dropout
        self.enc_embed = TokenEmbed(vocab, emb, drum_bits)
        self.encoder = nn.LSTM(emb, enc_hidden, 1, batch_first=True, bidirectional=True)
        self.mu = nn.Linear(2 * enc_hidden, z_dim)
        self.sig = nn.Linear(2 * enc_hidden, z_dim)
        self.z_init = nn.Linear(z_dim, 2 * dec_layers * dec_hidden)
        self.dec_embed = TokenEmbed(vocab, emb, drum_bits, extra_tokens=1)
        self.decoder = nn.LSTM(emb + z_dim, dec_hidden, dec_layers, batch_first=True,
                               dropout=dropout if dec_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(dec_hidden, vocab)

    def encode(self, tokens):
        x = self.enc_embed(tokens)
        _, (h, _) = self.encoder(x)
        hcat = torch.cat([h[0], h[1]], dim=-1)
        return self.mu(hcat), F.softplus(self.sig(hcat)) + 1e-4

    def init_state(self, z):
        s = torch.tanh(self.z_init(z))
        B = z.shape[0]
        s = s.view(B, 2, self.dec_layers, self.dec_hidden).permute(1, 2, 0, 3)
        return s[0].contiguous(), s[1].contiguous()

    def decode_tf(self, z, tokens):
        B, T = tokens.shape
        prev = torch.cat([torch.full((B, 1), self.start_token, dtype=tokens.dtype, device=tokens.device),
                          tokens[:, :-1]], dim=1)
        if self.training and self.word_dropout > 0:
            # input-token dropout (Bowman et al. 2016): forces the decoder to rely on z
            mask = torch.rand(prev.shape, device=prev.device) < self.word_dropout
            prev = torch.where(mask, torch.full_like(prev, self.start_token), prev)
        x = torch.cat([self.dec_embed(prev), z.unsqueeze(1).expand(B, T, z.shape[-1])], dim=-1)
        y, _ = self.decoder(x, self.init_state(z))
        return self.out(self.drop(y))

    def forward(self, tokens):
        mu, sigma = self.encode(tokens)
        z = mu + sigma * torch.randn_like(mu)
        return self.decode_tf(z, tokens), mu, sigma

    def step(self, token, z, h, c):
        x = torch.cat([self.dec_embed(token), z], dim=-1).unsqueeze(1)
        y, (h2, c2) = self.decoder(x, (h, c))
        return self.out(y[:, 0]), h2, c2

    @torch.no_grad()
    def greedy(self, z, steps: int, temperature: float = 0.0, generator=None):
        B = z.shape[0]
        h, c = self.init_state(z)
        tok = torch.full((B,), self.start_token, dtype=torch.long)
        out = []
        for _ in range(steps):
            logits, h, c = self.step(tok, z, h, c)
            if temperature <= 0:
                tok = logits.argmax(-1)
            else:
                tok = torch.multinomial(F.softmax(logits / temperature, -1), 1, generator=generator)[:, 0]
            out.append(tok)
        return torch.stack(out, 1)


class VAEEncoderG(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, tokens):
        return self.m.encode(tokens)


class VAEInitG(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, z):
        return self.m.init_state(z)


class VAEStepG(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, token, z, h, c):
        return self.m.step(token, z, h, c)


def kl_per_example(mu, sigma):
    return 0.5 * (mu.pow(2) + sigma.pow(2) - 1.0 - 2.0 * torch.log(sigma)).sum(-1)


class GrooveVAE(nn.Module):
    """GrooVAE-style over the 27-float groove encoding.

    Encoder: input[B,T,F] (tap 3 floats or hits-only 27 floats) -> BiLSTM -> mu, sigma.
    Decoder (whole sequence, non-autoregressive): z[B,Z] and the same input[B,T,F] ->
    2-layer BiLSTM over [input_t, z] -> per step 9 hit logits, 9 velocities (sigmoid), 9 offsets (0.5*tanh).
    """

    def __init__(self, in_floats: int, voices: int, enc_hidden: int, dec_hidden: int, z_dim: int, dropout: float = 0.1):
        super().__init__()
        self.in_floats, self.voices, self.z_dim = in_floats, voices, z_dim
        self.encoder = nn.LSTM(in_floats, enc_hidden, 1, batch_first=True, bidirectional=True)
        self.mu = nn.Linear(2 * enc_hidden, z_dim)
        self.sig = nn.Linear(2 * enc_hidden, z_dim)
        self.z_in = nn.Linear(z_dim, dec_hidden)
        self.decoder = nn.LSTM(in_floats + dec_hidden, dec_hidden, 2, batch_first=True, bidirectional=True,
                               dropout=dropout)
        self.out = nn.Linear(2 * dec_hidden, 3 * voices)
        # logit of the calibrated hit threshold (set after training; 0 = threshold 0.5). Subtracted from the
        # hit logits so that the spec's decode rule "hit > 0.5" applies the calibrated threshold.
        self.register_buffer("hit_bias", torch.zeros(()), persistent=False)

    def encode(self, x):
        _, (h, _) = self.encoder(x)
        hcat = torch.cat([h[0], h[1]], dim=-1)
        return self.mu(hcat), F.softplus(self.sig(hcat)) + 1e-4

    def decode(self, z, x):
        B, T, _ = x.shape
        zz = torch.tanh(self.z_in(z)).unsqueeze(1).expand(B, T, -1)
        y, _ = self.decoder(torch.cat([x, zz], dim=-1))
        o = self.out(y)
        V = self.voices
        hit_logits = o[..., :V] - self.hit_bias
        vel = torch.sigmoid(o[..., V:2 * V])
        off = 0.5 * torch.tanh(o[..., 2 * V:])
        return hit_logits, vel, off

    def forward(self, x):
        mu, sigma = self.encode(x)
        z = mu + sigma * torch.randn_like(mu)
        return self.decode(z, x), mu, sigma


class GrooveEncG(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m.encode(x)


class GrooveDecG(nn.Module):
    """z[B,Z], input[B,T,F] -> groove[B,T,27] (spec layout; hit = probability), hit_logits[B,T,9]"""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, z, x):
        hl, vel, off = self.m.decode(z, x)
        hp = torch.sigmoid(hl)
        B, T, V = hp.shape
        g = torch.stack([hp, vel, off], dim=-1).reshape(B, T, 3 * V)
        return g, hl
