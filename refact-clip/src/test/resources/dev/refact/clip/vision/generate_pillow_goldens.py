"""Writes pillow_goldens.json: Pillow 9.4 resize and PNG-decoding references for refact-java's tests.

Run with Debian 12's python3 (python3-pil 9.4.0, python3-numpy):
    /usr/bin/python3 generate_pillow_goldens.py > pillow_goldens.json
Deterministic: numpy PCG64 seed 20240605; re-running gives the same file.
"""
import base64, io, json, struct, sys, zlib

import numpy as np
import PIL
from PIL import Image

rng = np.random.Generator(np.random.PCG64(20240605))
b64 = lambda b: base64.b64encode(bytes(b)).decode("ascii")


def image(w, h):
    """Noise with hard edges and flat areas (exercises overshoot, clipping and exact constants)."""
    a = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    if w > 3 and h > 3:
        a[: h // 2, : w // 3] = (255, 0, 128)
        a[h // 2 :, w // 2 :] = (0, 255, 0)
    return a


resize_cases = []
specs = [  # (in_w, in_h, out_w, out_h, filter)
    (1, 1, 5, 5, 3), (1, 9, 4, 36, 3), (9, 1, 36, 4, 3), (3, 5, 32, 53, 3), (17, 33, 48, 23, 3),
    (100, 7, 31, 19, 3), (5, 9, 20, 30, 3), (200, 3, 12, 5, 3), (40, 30, 25, 30, 3), (40, 30, 40, 17, 3),
    (13, 120, 7, 64, 3), (33, 31, 32, 30, 3), (7, 6, 60, 51, 3),
    (17, 33, 48, 23, 2), (17, 33, 48, 23, 4), (100, 7, 31, 19, 1), (100, 7, 31, 19, 5), (5, 9, 20, 30, 2),
]
for (w, h, ow, oh, f) in specs:
    a = image(w, h)
    out = np.asarray(Image.fromarray(a, "RGB").resize((ow, oh), resample=f))
    resize_cases.append({"in_w": w, "in_h": h, "out_w": ow, "out_h": oh, "resample": f,
                         "input": b64(a.tobytes()), "output": b64(out.tobytes())})


def chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def png(width, height, bit_depth, color_type, rows, plte=None, trns=None):
    """A minimal PNG writer (filter 0 on every row) so that every colour type / bit depth is covered."""
    raw = b"".join(b"\x00" + r for r in rows)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0))
    if plte is not None:
        out += chunk(b"PLTE", bytes(plte))
    if trns is not None:
        out += chunk(b"tRNS", bytes(trns))
    return out + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def pack(values, bits):
    """Packs one row of samples MSB-first (PNG order)."""
    if bits == 8:
        return bytes(int(v) for v in values)
    if bits == 16:
        return b"".join(struct.pack(">H", int(v)) for v in values)
    per = 8 // bits
    out = bytearray()
    for i in range(0, len(values), per):
        byte = 0
        for j in range(per):
            v = int(values[i + j]) if i + j < len(values) else 0
            byte |= v << (8 - bits * (j + 1))
        out.append(byte)
    return bytes(out)


decode_cases = []
W, H = 7, 5
channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
for (ct, bd, extra) in [(0, 1, None), (0, 2, None), (0, 4, None), (0, 8, None), (0, 16, "small"), (0, 16, None),
                        (0, 8, "trns"), (2, 8, None), (2, 16, None), (2, 8, "trns"), (3, 1, None), (3, 2, None),
                        (3, 4, "short"), (3, 8, "short"), (3, 8, "trns"), (4, 8, None), (4, 16, None), (6, 8, None),
                        (6, 16, None)]:
    n = channels[ct]
    maxv = (1 << bd) - 1
    plte = trns = None
    if ct == 3:
        entries = (1 << bd) if extra != "short" else max(1, (1 << bd) // 2 - 1)
        plte = rng.integers(0, 256, size=entries * 3, dtype=np.uint8).tolist()
        if extra == "trns":
            trns = rng.integers(0, 256, size=entries, dtype=np.uint8).tolist()
    if extra == "trns" and ct == 0:
        trns = list(struct.pack(">H", 7))
    if extra == "trns" and ct == 2:
        trns = list(struct.pack(">HHH", 1, 2, 3))
    top = 300 if extra == "small" else maxv  # 16-bit gray with values near 0..255 shows Pillow's clip
    samples = rng.integers(0, top + 1, size=(H, W * n))
    rows = [pack(samples[y], bd) for y in range(H)]
    data = png(W, H, bd, ct, rows, plte, trns)
    im = Image.open(io.BytesIO(data))
    mode = im.mode
    rgb = np.asarray(im.convert("RGB"))
    decode_cases.append({"name": f"ct{ct}_bd{bd}" + (f"_{extra}" if extra else ""), "pillow_mode": mode,
                         "width": W, "height": H, "png": b64(data), "rgb": b64(rgb.tobytes())})

json.dump({"pillow": PIL.__version__, "numpy": np.__version__, "seed": 20240605,
           "resize": resize_cases, "decode": decode_cases}, sys.stdout, indent=1)
sys.stdout.write("\n")
