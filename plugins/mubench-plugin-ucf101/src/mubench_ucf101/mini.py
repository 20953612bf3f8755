"""The offline ``mini`` UCF101: short clips of a coloured shape moving over a textured background.

The class is (shape, motion direction); colour, start position, speed, size, background texture and a
distractor blob vary per clip. Each clip is ``frames`` RGB frames of ``size`` x ``size`` uint8. The OOD
variant shifts the distribution as UCF101-DS does for real videos: frames are darkened, blurred by
averaging with the previous frame (motion blur) and noisier.
"""
from __future__ import annotations

import numpy as np

DIRECTIONS = {"left": (0, -1), "right": (0, 1), "up": (-1, 0), "down": (1, 0)}


def _mask(shape: str, size: int, cy: float, cx: float, r: float) -> np.ndarray:
    ys, xs = np.mgrid[0:size, 0:size]
    dy, dx = ys - cy, xs - cx
    if shape == "circle":
        return dy**2 + dx**2 <= r**2
    if shape == "square":
        return (np.abs(dy) <= r * 0.85) & (np.abs(dx) <= r * 0.85)
    if shape == "triangle":
        return (dy >= -r) & (dy <= r) & (np.abs(dx) <= (dy + r) / 2)
    raise ValueError(f"ucf101 mini: unknown shape {shape!r} (circle, square, triangle)")


def clip(shape: str, motion: str, rng: np.random.Generator, frames: int, size: int, shifted: bool = False) -> np.ndarray:
    """One clip, uint8 [frames, 3, size, size]."""
    if motion not in DIRECTIONS:
        raise ValueError(f"ucf101 mini: unknown motion {motion!r} ({', '.join(DIRECTIONS)})")
    dy, dx = DIRECTIONS[motion]
    r = size * rng.uniform(0.12, 0.2)
    speed = size * rng.uniform(0.04, 0.08)
    travel = speed * (frames - 1)
    # start so that the whole path stays inside the frame
    lo, hi = r + 1 + travel * (np.array([dy, dx]) < 0), size - r - 1 - travel * (np.array([dy, dx]) > 0)
    cy, cx = (rng.uniform(lo[i], max(lo[i], hi[i])) for i in range(2))
    colour = rng.uniform(60, 255, 3)
    background = rng.uniform(0, 90, 3) + rng.normal(0, 12, (size, size, 3))
    blob_y, blob_x, blob_c = rng.uniform(0, size, 2).tolist() + [rng.uniform(40, 200, 3)]
    out = np.empty((frames, size, size, 3), dtype=np.float32)
    for t in range(frames):
        frame = background.copy()
        frame[_mask("circle", size, blob_y, blob_x, size * 0.08)] = blob_c  # a static distractor
        frame[_mask(shape, size, cy + dy * speed * t, cx + dx * speed * t, r)] = colour
        out[t] = frame
    if shifted:
        out[1:] = 0.5 * out[1:] + 0.5 * out[:-1]
        out = out * 0.6 + rng.normal(0, 20, out.shape)
    return out.clip(0, 255).astype(np.uint8).transpose(0, 3, 1, 2)


def generate(shapes, motions, per_class: int, frames: int, size: int, seed: int, shifted: bool = False):
    """All clips, class-major: (videos [N, T, 3, S, S] uint8, labels [N], class names)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    names = [f"{s}_{m}" for s in shapes for m in motions]
    videos, labels = [], []
    for k, (s, m) in enumerate((s, m) for s in shapes for m in motions):
        for _ in range(per_class):
            videos.append(clip(s, m, rng, frames, size, shifted))
            labels.append(k)
    return np.stack(videos), np.asarray(labels, dtype=np.int64), names
