#!/usr/bin/env python3
"""The PyTorch side of `rlr bench`: the same built-in model and the same three
measurements, so the two can be compared on one machine.

    python3 crates/rlr-engine/benches/torch_reference.py --threads 2
    rlr bench recipes/grpo.rlr

The model is rlr's `gpt(layers, width, heads)` (crates/rlr-engine/src/model.rs):
token embedding tied to the output head, pre-norm blocks of RMSNorm, causal
multi-head attention with rotary positions and a key/value cache, and a SwiGLU
MLP of width·mlp_ratio; no biases. The protocol is bench.rs's: `batch` rows of
a `prompt`-token prompt, then `new` sampled tokens at temperature 1 with the
cache (no early stop); a training step is a forward, backward and AdamW step on
`batch` rows of prompt + new − 1 tokens; each figure is the best of `reps`
timed repetitions after one warm-up. FLOPs are counted as bench.rs counts them.
"""

import argparse
import math
import time

import torch
import torch.nn.functional as F


class Block(torch.nn.Module):
    def __init__(self, width, heads, hidden):
        super().__init__()
        self.heads = heads
        self.attn_norm = torch.nn.RMSNorm(width, eps=1e-5)
        self.wq = torch.nn.Linear(width, width, bias=False)
        self.wk = torch.nn.Linear(width, width, bias=False)
        self.wv = torch.nn.Linear(width, width, bias=False)
        self.wo = torch.nn.Linear(width, width, bias=False)
        self.mlp_norm = torch.nn.RMSNorm(width, eps=1e-5)
        self.gate = torch.nn.Linear(width, hidden, bias=False)
        self.up = torch.nn.Linear(width, hidden, bias=False)
        self.down = torch.nn.Linear(hidden, width, bias=False)

    def forward(self, x, cos, sin, past):
        b, t, d = x.shape
        hd = d // self.heads

        def split(y):
            return y.view(b, t, self.heads, hd).transpose(1, 2)

        n = self.attn_norm(x)
        q = rotate(split(self.wq(n)), cos, sin)
        k = rotate(split(self.wk(n)), cos, sin)
        v = split(self.wv(n))
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        # Causal over the new queries, which are the last t of the keys.
        y = F.scaled_dot_product_attention(q, k, v, is_causal=past is None)
        x = x + self.wo(y.transpose(1, 2).reshape(b, t, d))
        m = self.mlp_norm(x)
        x = x + self.down(F.silu(self.gate(m)) * self.up(m))
        return x, (k, v)


def rotate(x, cos, sin):
    """Rotary positions on interleaved pairs, as Burn's RotaryEncoding."""
    even, odd = x[..., 0::2], x[..., 1::2]
    out = torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1)
    return out.flatten(-2)


class Gpt(torch.nn.Module):
    def __init__(self, vocab, layers, width, heads, mlp_ratio, context):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, width)
        self.blocks = torch.nn.ModuleList(
            Block(width, heads, width * mlp_ratio) for _ in range(layers)
        )
        self.norm = torch.nn.RMSNorm(width, eps=1e-5)
        hd = width // heads
        freq = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))
        angles = torch.arange(context).float()[:, None] * freq[None, :]
        self.register_buffer("cos", angles.cos(), persistent=False)
        self.register_buffer("sin", angles.sin(), persistent=False)
        for p in self.parameters():
            if p.dim() > 1:
                torch.nn.init.normal_(p, 0.0, 0.02)

    def forward(self, tokens, cache=None):
        t = tokens.shape[1]
        start = 0 if cache is None else cache[0][0].shape[2]
        cos, sin = self.cos[start : start + t], self.sin[start : start + t]
        x = self.embed(tokens)
        new = []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, cos, sin, None if cache is None else cache[i])
            new.append(kv)
        return self.norm(x) @ self.embed.weight.T, new


def forward_flops(layers, width, hidden, vocab, keys):
    matmuls = layers * (4 * width * width + 3 * width * hidden) + width * vocab
    return 2.0 * (matmuls + 2 * layers * width * keys)


def best(reps, f):
    f()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--mlp-ratio", type=int, default=4)
    ap.add_argument("--vocab", type=int, default=99)
    ap.add_argument("--context", type=int, default=256)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--prompt", type=int, default=16)
    ap.add_argument("--new", type=int, default=128)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--matmul", type=int, default=1024)
    ap.add_argument("--threads", type=int, default=0, help="0: PyTorch's default")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(7)
    hidden = a.width * a.mlp_ratio

    m = torch.ones(a.matmul, a.matmul)
    mm = best(a.reps, lambda: (m @ m)[0, 0].item())
    mm_flops = 2.0 * a.matmul**3

    model = Gpt(a.vocab, a.layers, a.width, a.heads, a.mlp_ratio, a.context)
    prompts = torch.randint(4, a.vocab, (a.batch, a.prompt))

    @torch.no_grad()
    def sample():
        logits, cache = model(prompts)
        for _ in range(a.new):
            probs = torch.softmax(logits[:, -1], dim=-1)
            nxt = torch.multinomial(probs, 1)
            logits, cache = model(nxt, cache)

    s = best(a.reps, sample)
    prefill = sum(forward_flops(a.layers, a.width, hidden, a.vocab, k) for k in range(1, a.prompt + 1))
    decode = sum(
        forward_flops(a.layers, a.width, hidden, a.vocab, a.prompt + j + 1) for j in range(a.new)
    )
    s_flops = a.batch * (prefill + decode)

    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    seq = torch.randint(4, a.vocab, (a.batch, a.prompt + a.new))
    inputs, targets = seq[:, :-1], seq[:, 1:]

    def train():
        logits, _ = model(inputs)
        logp = torch.log_softmax(logits, dim=-1).gather(-1, targets[..., None])
        loss = -logp.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()

    tr = best(a.reps, train)
    time_ = inputs.shape[1]
    per_row = sum(forward_flops(a.layers, a.width, hidden, a.vocab, k) for k in range(1, time_ + 1))
    tr_flops = 3.0 * a.batch * per_row

    params = sum(p.numel() for p in model.parameters())
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, {params:,} parameters")
    peak = mm_flops / mm / 1e9
    print(f"matmul {a.matmul}x{a.matmul}: {peak:.1f} GFLOP/s")
    for name, secs, tokens, flops in [
        ("sampling", s, a.batch * a.new, s_flops),
        ("training", tr, a.batch * time_, tr_flops),
    ]:
        g = flops / secs / 1e9
        print(f"{name}: {tokens / secs:,.0f} tokens/s, {g:.1f} GFLOP/s ({100 * g / peak:.0f}% of matmul)")
    assert math.isfinite(s) and math.isfinite(tr)


if __name__ == "__main__":
    main()
