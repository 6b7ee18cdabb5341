#!/usr/bin/env python3
"""PyTorch-eager baseline for EncoderBench: the same work (SD 1.x CLIP text encoder shape, seeded random
weights, batch 1 and 8 x 77 tokens, no grad) written directly with torch ops, for docs/benchmarks.md.

Usage: OPENBLAS_CORETYPE=... python3 clip_text_eager.py [threads]   (Debian: apt-get install python3-torch)
"""
import sys
import time

import torch

D, I, L, H, V, N = 768, 3072, 12, 12, 49408, 77
threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
torch.set_num_threads(threads)
g = torch.Generator().manual_seed(1234)


def rnd(*shape, std=0.02):
    return torch.randn(*shape, generator=g) * std


tok = rnd(V, D, std=0.5)
pos = rnd(N, D, std=0.5)
layers = []
for _ in range(L):
    layers.append(dict(ln1=(1 + rnd(D, std=0.2), rnd(D, std=0.1)), ln2=(1 + rnd(D, std=0.2), rnd(D, std=0.1)),
                       q=(rnd(D, D, std=D ** -0.5), rnd(D, std=0.1)), k=(rnd(D, D, std=D ** -0.5), rnd(D, std=0.1)),
                       v=(rnd(D, D, std=D ** -0.5), rnd(D, std=0.1)), o=(rnd(D, D, std=D ** -0.5), rnd(D, std=0.1)),
                       fc1=(rnd(I, D, std=D ** -0.5), rnd(I, std=0.1)), fc2=(rnd(D, I, std=I ** -0.5), rnd(D, std=0.1))))
fln = (1 + rnd(D, std=0.2), rnd(D, std=0.1))
F = torch.nn.functional


def forward(ids):
    b, n = ids.shape
    x = F.embedding(ids, tok) + pos[:n]
    mask = torch.full((n, n), float("-inf")).triu(1)
    for p in layers:
        h = F.layer_norm(x, (D,), *p["ln1"], 1e-5)
        q = F.linear(h, *p["q"]).view(b, n, H, D // H).transpose(1, 2) * (D // H) ** -0.5
        k = F.linear(h, *p["k"]).view(b, n, H, D // H).transpose(1, 2)
        v = F.linear(h, *p["v"]).view(b, n, H, D // H).transpose(1, 2)
        a = torch.softmax(q @ k.transpose(-1, -2) + mask, -1) @ v
        x = x + F.linear(a.transpose(1, 2).reshape(b, n, D), *p["o"])
        f = F.linear(F.layer_norm(x, (D,), *p["ln2"], 1e-5), *p["fc1"])
        x = x + F.linear(f * torch.sigmoid(1.702 * f), *p["fc2"])
    x = F.layer_norm(x, (D,), *fln, 1e-5)
    return x[torch.arange(b), ids.argmax(-1)]


with torch.no_grad():
    for batch, reps in ((1, 30), (8, 10)):
        ids = torch.randint(0, 49406, (batch, N), generator=g)
        ids[:, 0] = 49406
        ids[:, 20:] = 49407
        for _ in range(3):
            forward(ids)
        ts = []
        for _ in range(reps):
            t = time.perf_counter()
            forward(ids).sum().item()
            ts.append(time.perf_counter() - t)
        ts.sort()
        print(f"torch {torch.__version__} eager, {threads} thread(s): forward batch {batch} x 77: median "
              f"{ts[len(ts) // 2] * 1e3:.1f} ms (min {ts[0] * 1e3:.1f}, max {ts[-1] * 1e3:.1f}, n {reps})")
