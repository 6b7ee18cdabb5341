#!/usr/bin/env python3
"""PyTorch-eager baseline for docs/benchmarks.md ("Diffusion"): the same SD 1.4 UNet work as
dev.refact.diffusion.bench.UNetBench (batch 2, 64x64 latents, 77x768 text, float32, random
weights, no grad), written directly in PyTorch with diffusers-0.14-style attention
(baddbmm -> softmax -> bmm, unsliced). Not a correctness reference; timing only.

Usage: /usr/bin/python3 unet_eager_bench.py [steps=3] [threads=1]
"""
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
torch.manual_seed(0)


class Resnet(nn.Module):
    def __init__(self, cin, cout, temb):
        super().__init__()
        self.n1 = nn.GroupNorm(32, cin, eps=1e-5)
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.t = nn.Linear(temb, cout)
        self.n2 = nn.GroupNorm(32, cout, eps=1e-5)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.sc = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, t):
        h = self.c1(F.silu(self.n1(x))) + self.t(F.silu(t))[:, :, None, None]
        h = self.c2(F.silu(self.n2(h)))
        return (x if self.sc is None else self.sc(x)) + h


class Attention(nn.Module):
    def __init__(self, dim, ctx, heads):
        super().__init__()
        self.h = heads
        self.q = nn.Linear(dim, dim, bias=False)
        self.k = nn.Linear(ctx, dim, bias=False)
        self.v = nn.Linear(ctx, dim, bias=False)
        self.o = nn.Linear(dim, dim)

    def split(self, t):
        b, n, d = t.shape
        return t.reshape(b, n, self.h, d // self.h).permute(0, 2, 1, 3).reshape(b * self.h, n, d // self.h)

    def forward(self, x, c=None):
        c = x if c is None else c
        b, n, d = x.shape
        q, k, v = self.split(self.q(x)), self.split(self.k(c)), self.split(self.v(c))
        s = torch.baddbmm(torch.empty(q.shape[0], n, k.shape[1]), q, k.transpose(1, 2), beta=0,
                          alpha=(d // self.h) ** -0.5)
        o = torch.bmm(s.softmax(-1), v)
        return self.o(o.reshape(b, self.h, n, d // self.h).permute(0, 2, 1, 3).reshape(b, n, d))


class Transformer(nn.Module):
    def __init__(self, ch, ctx, heads):
        super().__init__()
        self.norm = nn.GroupNorm(32, ch, eps=1e-6)
        self.pin = nn.Conv2d(ch, ch, 1)
        self.l1, self.l2, self.l3 = nn.LayerNorm(ch), nn.LayerNorm(ch), nn.LayerNorm(ch)
        self.a1, self.a2 = Attention(ch, ch, heads), Attention(ch, ctx, heads)
        self.ff1, self.ff2 = nn.Linear(ch, 8 * ch), nn.Linear(4 * ch, ch)
        self.pout = nn.Conv2d(ch, ch, 1)

    def forward(self, x, ctx):
        b, c, h, w = x.shape
        t = self.pin(self.norm(x)).permute(0, 2, 3, 1).reshape(b, h * w, c)
        t = t + self.a1(self.l1(t))
        t = t + self.a2(self.l2(t), ctx)
        val, gate = self.ff1(self.l3(t)).chunk(2, dim=-1)
        t = t + self.ff2(val * F.gelu(gate))
        return self.pout(t.reshape(b, h, w, c).permute(0, 3, 1, 2).contiguous()) + x


class UNet(nn.Module):
    def __init__(self, boc=(320, 640, 1280, 1280), attn=(True, True, True, False), layers=2, ctx=768, heads=8):
        super().__init__()
        temb = 4 * boc[0]
        self.lin1, self.lin2 = nn.Linear(boc[0], temb), nn.Linear(temb, temb)
        self.conv_in = nn.Conv2d(4, boc[0], 3, padding=1)
        self.down = nn.ModuleList()
        out = boc[0]
        for i, ch in enumerate(boc):
            cin, out = out, ch
            blk = nn.ModuleDict({
                "res": nn.ModuleList([Resnet(cin if j == 0 else out, out, temb) for j in range(layers)]),
                "att": nn.ModuleList([Transformer(out, ctx, heads) for _ in range(layers)] if attn[i] else []),
            })
            if i < len(boc) - 1:
                blk["ds"] = nn.Conv2d(out, out, 3, stride=2, padding=1)
            self.down.append(blk)
        self.mid = nn.ModuleList([Resnet(boc[-1], boc[-1], temb), Transformer(boc[-1], ctx, heads),
                                  Resnet(boc[-1], boc[-1], temb)])
        self.up = nn.ModuleList()
        rb = list(reversed(boc))
        out = rb[0]
        for i in range(len(boc)):
            prev, out, cin = out, rb[i], rb[min(i + 1, len(boc) - 1)]
            blk = nn.ModuleDict({
                "res": nn.ModuleList([Resnet((prev if j == 0 else out) + (cin if j == layers else out), out, temb)
                                      for j in range(layers + 1)]),
                "att": nn.ModuleList([Transformer(out, ctx, heads) for _ in range(layers + 1)]
                                     if list(reversed(attn))[i] else []),
            })
            if i < len(boc) - 1:
                blk["us"] = nn.Conv2d(out, out, 3, padding=1)
            self.up.append(blk)
        self.norm_out = nn.GroupNorm(32, boc[0], eps=1e-5)
        self.conv_out = nn.Conv2d(boc[0], 4, 3, padding=1)
        self.c0 = boc[0]

    def forward(self, x, t, ctx):
        half = self.c0 // 2
        freqs = torch.exp(-torch.log(torch.tensor(10000.0)) * torch.arange(half, dtype=torch.float32) / half)
        arg = t.float()[:, None] * freqs[None]
        temb = self.lin2(F.silu(self.lin1(torch.cat([arg.cos(), arg.sin()], -1))))
        h = self.conv_in(x)
        skips = [h]
        for blk in self.down:
            for j, r in enumerate(blk["res"]):
                h = r(h, temb)
                if len(blk["att"]):
                    h = blk["att"][j](h, ctx)
                skips.append(h)
            if "ds" in blk:
                h = blk["ds"](h)
                skips.append(h)
        h = self.mid[2](self.mid[1](self.mid[0](h, temb), ctx), temb)
        for blk in self.up:
            for j, r in enumerate(blk["res"]):
                h = r(torch.cat([h, skips.pop()], 1), temb)
                if len(blk["att"]):
                    h = blk["att"][j](h, ctx)
            if "us" in blk:
                h = blk["us"](F.interpolate(h, scale_factor=2.0, mode="nearest"))
        return self.conv_out(F.silu(self.norm_out(h)))


def rss_gb(peak):
    if peak:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024 / 1024


with torch.no_grad():
    t0 = time.time()
    unet = UNet().eval()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"{sum(p.numel() for p in unet.parameters()) / 1e6:.1f} M parameters, built in {time.time() - t0:.1f} s, "
          f"RSS {rss_gb(False):.2f} GB", flush=True)
    x = torch.randn(2, 4, 64, 64)
    ctx = torch.randn(2, 77, 768)
    times = []
    for i in range(STEPS):
        s = time.time()
        unet(x, torch.tensor([981 - 20 * i] * 2), ctx).sum().item()
        times.append(time.time() - s)
        print(f"eager UNet step {i + 1}: {times[-1]:.2f} s, RSS {rss_gb(False):.2f} GB, peak {rss_gb(True):.2f} GB",
              flush=True)
    warm = times[1:] or times
    print(f"RESULT eager_unet_step_s mean {sum(warm) / len(warm):.2f} min {min(warm):.2f} (first {times[0]:.2f}), "
          f"peak_rss_gb {rss_gb(True):.2f}")
