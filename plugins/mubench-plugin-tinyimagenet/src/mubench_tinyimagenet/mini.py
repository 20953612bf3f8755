"""The mini Tiny ImageNet: captioned images of coloured shapes (offline, deterministic).

Each class is a colour and a shape; position, size, colour shade and background noise vary per
image, so a tiny diffusion model must learn the class's look rather than copy one picture.
"""
from __future__ import annotations

import numpy as np

CLASSES = ["red square", "green circle", "blue triangle", "yellow cross"]
COLOURS = {"red": (220, 40, 40), "green": (40, 200, 60), "blue": (50, 70, 230), "yellow": (230, 220, 40)}


def _draw(rng: np.random.Generator, cls: str, size: int) -> np.ndarray:
    colour, shape = cls.split()
    img = rng.normal(40, 12, (size, size, 3))
    yy, xx = np.mgrid[0:size, 0:size]
    r = rng.uniform(0.22, 0.34) * size
    cy, cx = rng.uniform(r, size - r, 2)
    if shape == "square":
        mask = (abs(yy - cy) <= r * 0.85) & (abs(xx - cx) <= r * 0.85)
    elif shape == "circle":
        mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r ** 2
    elif shape == "triangle":
        mask = (yy >= cy - r) & (yy <= cy + r) & (abs(xx - cx) <= (yy - (cy - r)) / 2)
    else:  # cross
        mask = ((abs(yy - cy) <= r * 0.3) & (abs(xx - cx) <= r)) | ((abs(xx - cx) <= r * 0.3) & (abs(yy - cy) <= r))
    shade = np.array(COLOURS[colour]) * rng.uniform(0.8, 1.1)
    img[mask] = shade + rng.normal(0, 8, (int(mask.sum()), 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def shape_images(n_per_class: int, n_test_per_class: int, size: int, seed: int) -> dict[str, dict]:
    rng = np.random.default_rng(seed)
    out = {}
    for split, n in (("train", n_per_class), ("test", n_test_per_class)):
        labels = np.repeat(np.arange(len(CLASSES)), n)
        rng.shuffle(labels)
        out[split] = {"image": [_draw(rng, CLASSES[k], size) for k in labels], "label": labels.tolist()}
    return out
