"""The offline ``mini`` NLVR2: pairs of small synthetic images of coloured shapes and statements
about them, true or false, in NLVR2's schema (``left_image``, ``right_image``, ``sentence``, ``label``).

Shapes sit in the cells of a 4x4 grid of 8-pixel cells, so at 32x32 each cell is one ViLT patch of a
tiny model. Statements need the text and both images together: existence of a coloured shape in one
image, in both images, comparisons of counts and exact counts. A small share of training labels is
flipped, so the training set can only be fitted by memorising those pairs (what membership inference
measures). The OOD split draws the same statements over shifted images (smaller, off-centre shapes on a
darker, noisy background) as a stand-in for NLVR2's second test set.
"""
from __future__ import annotations

import functools

import numpy as np

SHAPES = ("circle", "square", "triangle")
COLOURS = {"red": (220, 40, 40), "green": (40, 180, 60), "blue": (50, 80, 230)}
_COLOUR_NAMES = tuple(COLOURS)
SIDES = ("left", "right")
GRID = 4
CELL = 8
SIZE = GRID * CELL


@functools.lru_cache(maxsize=None)
def _mask(shape: str, shrink: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel offsets (ys, xs) of a shape inside one cell with ``shrink`` pixels of margin."""
    ys, xs = np.mgrid[0:CELL, 0:CELL]
    c = (CELL - 1) / 2
    half = c - shrink
    if shape == "square":
        mask = (np.abs(ys - c) <= half) & (np.abs(xs - c) <= half)
    elif shape == "circle":
        mask = (ys - c) ** 2 + (xs - c) ** 2 <= (half + 0.5) ** 2
    else:  # triangle, apex up
        top = c - half
        mask = (ys >= top) & (ys <= c + half) & (np.abs(xs - c) <= (ys - top) / 2 + 0.5)
    return ys[mask], xs[mask]


def _draw_shape(img: np.ndarray, shape: str, colour: tuple[int, int, int], row: int, col: int, shrink: int, jitter: tuple[int, int]) -> None:
    """Paint one shape into cell (row, col); ``jitter`` offsets it (clipped at the border)."""
    ys, xs = _mask(shape, shrink)
    img[np.clip(row * CELL + jitter[0] + ys, 0, SIZE - 1), np.clip(col * CELL + jitter[1] + xs, 0, SIZE - 1)] = colour


def _scene(rng: np.random.Generator) -> list[tuple[str, str]]:
    """1-3 (colour, shape) objects."""
    n = int(rng.integers(1, 4))
    return [_object(rng) for _ in range(n)]


def _object(rng: np.random.Generator) -> tuple[str, str]:
    return _COLOUR_NAMES[int(rng.integers(len(_COLOUR_NAMES)))], SHAPES[int(rng.integers(len(SHAPES)))]


def _render(objects: list[tuple[str, str]], rng: np.random.Generator, shifted: bool) -> np.ndarray:
    if shifted:
        img = rng.normal(60, 25, (SIZE, SIZE, 3)).clip(0, 255).astype(np.uint8)
    else:
        img = np.full((SIZE, SIZE, 3), 245, dtype=np.uint8)
    cells = rng.choice(GRID * GRID, size=len(objects), replace=False)
    for (colour, shape), cell in zip(objects, cells):
        jitter = tuple(int(v) for v in rng.integers(-2, 3, 2)) if shifted else (0, 0)
        _draw_shape(img, shape, COLOURS[colour], int(cell) // GRID, int(cell) % GRID, 2 if shifted else 1, jitter)
    return img


#: how often each template is used: existence in one image, in both, count comparison, exact count
KIND_WEIGHTS = (0.5, 0.3, 0.1, 0.1)


def _statement(left, right, rng: np.random.Generator) -> tuple[str, bool]:
    """A statement of a random template about the two scenes, and whether it is true."""
    kind = int(rng.choice(4, p=KIND_WEIGHTS))
    scenes = {"left": left, "right": right}
    if kind in (0, 1):
        side = SIDES[int(rng.integers(2))]
        pool = left + right if kind == 1 else scenes[side]
        # half the time ask about an object that is present, else about a random one
        colour, shape = pool[int(rng.integers(len(pool)))] if rng.random() < 0.5 else _object(rng)
        if kind == 0:
            return f"the {side} image contains a {colour} {shape}", (colour, shape) in scenes[side]
        return f"there is a {colour} {shape} in both images", (colour, shape) in left and (colour, shape) in right
    if kind == 2:
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        a, b = (sum(s == shape for _, s in scene) for scene in (left, right))
        if rng.random() < 0.5:
            return f"the left image has more {shape}s than the right image", a > b
        return f"the right image has more {shape}s than the left image", b > a
    side = SIDES[int(rng.integers(2))]
    n = len(scenes[side]) if rng.random() < 0.5 else int(rng.integers(1, 4))
    return f"there are exactly {n} shapes in the {side} image", len(scenes[side]) == n


def generate(n: int, seed: int, *, shifted: bool = False, label_noise: float = 0.0) -> dict[str, list]:
    """``n`` examples as columns: images as HxWx3 uint8 arrays, ``label`` 1 = true, 0 = false."""
    rng = np.random.Generator(np.random.PCG64(seed))
    out: dict[str, list] = {"left_image": [], "right_image": [], "sentence": [], "label": []}
    for _ in range(n):
        # draw the truth value first, then scenes and statements until one has it: balanced labels
        wanted = bool(rng.random() < 0.5)
        for _attempt in range(100):
            left, right = _scene(rng), _scene(rng)
            sentence, truth = _statement(left, right, rng)
            if truth == wanted:
                break
        # the coin is always drawn, so the noisy and the clean data share every scene and statement
        if rng.random() < label_noise:
            truth = not truth
        out["left_image"].append(_render(left, rng, shifted))
        out["right_image"].append(_render(right, rng, shifted))
        out["sentence"].append(sentence)
        out["label"].append(int(truth))
    return out
