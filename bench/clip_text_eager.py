#!/usr/bin/env python3
"""PyTorch-eager baseline for `refact bench encoder`: the same work (a CLIP text encoder read from the same
model.safetensors, batch 1 and 8 x 77 tokens, no grad) written directly with torch ops, as HF transformers'
CLIPTextModel computes it (separate q/k/v projections, masked softmax attention, quick_gelu MLP).

Usage: python3 clip_text_eager.py --model DIR/text_encoder [--reps N] [--threads T] [--export-onnx FILE]
Prints per-batch lines and, last, one JSON line {"batch1_ms": ..., "batch8_ms": ...}.
With --export-onnx it writes a torch.onnx.export of the same encoder (input_ids [b,77] int64 -> last_hidden_state,
pooled) and exits. Needs only torch and numpy (Debian: apt-get install python3-torch libopenblas0-pthread).
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np
import torch

F = torch.nn.functional
DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64}


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        a = np.frombuffer(data[b:e], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(a.astype(np.float32) if a.dtype != np.int64 else a.copy())
    return out


class ClipText(torch.nn.Module):
    def __init__(self, w, cfg):
        super().__init__()
        self.cfg = cfg
        self.w = w
        self.d = cfg["hidden_size"]
        self.h = cfg["num_attention_heads"]
        self.layers = cfg["num_hidden_layers"]
        self.eps = cfg.get("layer_norm_eps", 1e-5)
        self.quick = cfg.get("hidden_act", "quick_gelu") == "quick_gelu"
        self.eos = cfg.get("eos_token_id", 2)

    def forward(self, ids):
        w, d, H = self.w, self.d, self.h
        p = "text_model."
        b, n = ids.shape
        x = F.embedding(ids, w[p + "embeddings.token_embedding.weight"]) + w[p + "embeddings.position_embedding.weight"][:n]
        mask = torch.full((n, n), float("-inf")).triu(1)
        hd = d // H
        for i in range(self.layers):
            l = p + "encoder.layers.%d." % i
            h = F.layer_norm(x, (d,), w[l + "layer_norm1.weight"], w[l + "layer_norm1.bias"], self.eps)
            a = l + "self_attn."
            q = F.linear(h, w[a + "q_proj.weight"], w[a + "q_proj.bias"]).view(b, n, H, hd).transpose(1, 2) * hd ** -0.5
            k = F.linear(h, w[a + "k_proj.weight"], w[a + "k_proj.bias"]).view(b, n, H, hd).transpose(1, 2)
            v = F.linear(h, w[a + "v_proj.weight"], w[a + "v_proj.bias"]).view(b, n, H, hd).transpose(1, 2)
            att = torch.softmax(q @ k.transpose(-1, -2) + mask, -1) @ v
            x = x + F.linear(att.transpose(1, 2).reshape(b, n, d), w[a + "out_proj.weight"], w[a + "out_proj.bias"])
            f = F.linear(F.layer_norm(x, (d,), w[l + "layer_norm2.weight"], w[l + "layer_norm2.bias"], self.eps),
                         w[l + "mlp.fc1.weight"], w[l + "mlp.fc1.bias"])
            f = f * torch.sigmoid(1.702 * f) if self.quick else F.gelu(f)
            x = x + F.linear(f, w[l + "mlp.fc2.weight"], w[l + "mlp.fc2.bias"])
        x = F.layer_norm(x, (d,), w[p + "final_layer_norm.weight"], w[p + "final_layer_norm.bias"], self.eps)
        if self.eos == 2:
            pos = ids.argmax(-1)
        else:
            pos = (ids == self.eos).int().argmax(-1)
        return x, x[torch.arange(b), pos]


def ids_for(batch, n, seed):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, 49406, (batch, n), generator=g)
    ids[:, 0] = 49406
    ids[:, 20:] = 49407
    return ids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="text_encoder folder (config.json + model.safetensors)")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (BLAS keeps its own pool)")
    ap.add_argument("--export-onnx", metavar="FILE")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with open(os.path.join(args.model, "config.json")) as f:
        cfg = json.load(f)
    model = ClipText(load_safetensors(os.path.join(args.model, "model.safetensors")), cfg).eval()
    n = min(77, cfg.get("max_position_embeddings", 77))
    if args.export_onnx:
        with torch.no_grad():
            torch.onnx.export(model, (ids_for(1, n, 1),), args.export_onnx, input_names=["input_ids"],
                              output_names=["last_hidden_state", "pooled"], opset_version=14,
                              dynamic_axes={"input_ids": {0: "batch"}, "last_hidden_state": {0: "batch"},
                                            "pooled": {0: "batch"}})
        print("wrote " + args.export_onnx)
        return
    res = {}
    blas = "openblas" if "openblas" in open("/proc/self/maps").read() else "other"
    with torch.no_grad():
        for batch in (1, 8):
            ids = ids_for(batch, n, 42 + batch)
            for _ in range(args.warmup):
                model(ids)
            ts = []
            for _ in range(args.reps):
                t = time.perf_counter()
                model(ids)[1].sum().item()
                ts.append(time.perf_counter() - t)
            ts.sort()
            med = ts[len(ts) // 2] * 1e3
            print(f"torch {torch.__version__} eager ({blas}), {args.threads} thread(s): forward batch {batch} x {n}: "
                  f"median {med:.1f} ms (min {ts[0] * 1e3:.1f}, max {ts[-1] * 1e3:.1f}, n {args.reps})", flush=True)
            res[f"batch{batch}_ms"] = round(med, 1)
    print(json.dumps(res))


if __name__ == "__main__":
    sys.exit(main())
