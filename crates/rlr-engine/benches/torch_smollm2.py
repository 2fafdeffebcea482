#!/usr/bin/env python3
"""The PyTorch side of `rlr bench recipes/smollm2_arith.rlr`: SmolLM2-135M from
the same GGUF file (dequantised to f32 by transformers), the same protocol.

    pip install torch transformers gguf
    SMOLLM2_GGUF=... python3 crates/rlr-engine/benches/torch_smollm2.py --threads 2
    SMOLLM2_GGUF=... rlr bench recipes/smollm2_arith.rlr

bench.rs's protocol: `batch` rows of a `prompt`-token prompt, then `new`
tokens sampled at temperature 1 with the KV cache (no early stop), and a
training step (forward, backward, AdamW) on `batch` rows of prompt + new - 1
tokens; each figure is the best of `reps` timed repetitions after a warm-up.
"""

import argparse
import os

import torch
from transformers import AutoModelForCausalLM

# Beside this file: the same best-of-reps timing as the built-in model's twin.
from torch_reference import best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gguf", default=os.environ.get("SMOLLM2_GGUF", ""))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--prompt", type=int, default=16)
    ap.add_argument("--new", type=int, default=48)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0, help="0: PyTorch's default")
    a = ap.parse_args()
    if not a.gguf or not os.path.isfile(a.gguf):
        raise SystemExit("set SMOLLM2_GGUF (or --gguf) to the SmolLM2 GGUF file")
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(7)
    folder, name = os.path.split(a.gguf)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, torch_dtype=torch.float32)
    vocab = model.config.vocab_size
    prompts = torch.randint(100, vocab, (a.batch, a.prompt))

    @torch.no_grad()
    def sample():
        out = model(prompts, use_cache=True)
        cache, logits = out.past_key_values, out.logits
        for _ in range(a.new):
            nxt = torch.multinomial(torch.softmax(logits[:, -1], dim=-1), 1)
            out = model(nxt, past_key_values=cache, use_cache=True)
            cache, logits = out.past_key_values, out.logits

    model.eval()
    s = best(a.reps, sample)

    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-6)
    seq = torch.randint(100, vocab, (a.batch, a.prompt + a.new))
    inputs, targets = seq[:, :-1], seq[:, 1:]

    def train():
        logits = model(inputs).logits
        logp = torch.log_softmax(logits, dim=-1).gather(-1, targets[..., None])
        loss = -logp.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()

    tr = best(a.reps, train)
    params = sum(p.numel() for p in model.parameters())
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, {params:,} parameters")
    print(f"sampling: {a.batch * a.new / s:,.1f} tokens/s ({a.batch} x {a.new} after {a.prompt})")
    print(f"training: {a.batch * inputs.shape[1] / tr:,.1f} tokens/s ({a.batch} x {inputs.shape[1]})")


if __name__ == "__main__":
    main()
