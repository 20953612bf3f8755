"""Pixel helpers of the CIFAR-100 task: the offline mini images and the deterministic corruptions.

Mini: scikit-learn's bundled 8x8 handwritten digits (real data, shipped in the wheel), upscaled to
32x32 and drawn in one of several colour tints on a random dark background. A class is a
(digit, tint) pair, so there are ``10 x tints`` fine classes and the digit is the coarse class, like
CIFAR-100's 20 super-classes. Random shifts and pixel noise make the test set harder than the
training set, so a tiny model generalises well above chance but fits its training set better.
"""
from __future__ import annotations

import numpy as np
import torch

#: foreground colours of the tints (RGB, 0..1); distinct hues so a tint is learnable
TINTS = np.array([
    [1.0, 0.25, 0.2], [0.2, 0.9, 0.3], [0.3, 0.45, 1.0], [1.0, 0.9, 0.2], [0.9, 0.3, 0.9],
    [0.2, 0.9, 0.9], [1.0, 0.6, 0.1], [0.6, 0.3, 0.1], [0.95, 0.95, 0.95], [0.5, 0.8, 0.4],
], dtype=np.float32)
SIZE = 32


def render_digits(tints: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All 1797 digits rendered once each: images uint8 [N, 32, 32, 3], fine labels, coarse labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.Generator(np.random.PCG64(seed))
    n = len(digits.target)
    tint = rng.integers(0, tints, n)
    shifts = rng.integers(1, SIZE - 24, (n, 2))
    fg = np.clip(TINTS[tint] + rng.normal(0, 0.08, (n, 3)), 0, 1).astype(np.float32)
    bg = rng.uniform(0.0, 0.35, (n, 3)).astype(np.float32)
    noise = rng.normal(0, 0.06, (n, SIZE, SIZE, 3)).astype(np.float32)
    # upscale the 0..16 intensities bilinearly to 24x24, then place each at its own shift
    grey = torch.from_numpy(digits.images.astype(np.float32) / 16.0)[:, None]
    big = torch.nn.functional.interpolate(grey, size=(24, 24), mode="bilinear", align_corners=False)[:, 0].numpy()
    canvas = np.zeros((n, SIZE, SIZE), dtype=np.float32)
    for i, (dy, dx) in enumerate(shifts):
        canvas[i, dy:dy + 24, dx:dx + 24] = big[i]
    c = canvas[..., None]
    img = bg[:, None, None] * (1 - c) + fg[:, None, None] * c + noise
    out = (img.clip(0, 1) * 255).round().astype(np.uint8)
    fine = digits.target * tints + tint
    return out, fine.astype(np.int64), digits.target.astype(np.int64)


def corrupt_images(images: np.ndarray, seed: int) -> tuple[np.ndarray, list[str]]:
    """CIFAR-100-C-style shift: each image gets one of gaussian noise, blur or low contrast
    (cycling by position), with noise drawn from ``seed``. Returns images and corruption names."""
    rng = np.random.Generator(np.random.PCG64(seed))
    out = np.empty_like(images)
    names = []
    for i, img in enumerate(images):
        x = img.astype(np.float32) / 255.0
        kind = ("gaussian_noise", "gaussian_blur", "contrast")[i % 3]
        if kind == "gaussian_noise":
            x = x + rng.normal(0, 0.12, x.shape)
        elif kind == "gaussian_blur":  # 3x3 box blur twice ~ a small gaussian
            for _ in range(2):
                p = np.pad(x, ((1, 1), (1, 1), (0, 0)), mode="edge")
                x = sum(p[dy:dy + x.shape[0], dx:dx + x.shape[1]] for dy in range(3) for dx in range(3)) / 9.0
        else:
            x = (x - x.mean()) * 0.4 + x.mean()
        out[i] = (np.clip(x, 0, 1) * 255).round().astype(np.uint8)
        names.append(kind)
    return out, names
