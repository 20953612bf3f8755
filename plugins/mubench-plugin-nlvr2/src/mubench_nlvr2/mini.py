"""The offline ``mini`` NLVR2: pairs of small synthetic images of coloured shapes and statements
about them, true or false, in NLVR2's schema (``left_image``, ``right_image``, ``sentence``, ``label``).

Shapes sit in the cells of a 2x2 grid of 16-pixel cells, so at 32x32 each cell is one ViLT patch of the
tiny model (fewer, more informative patches: the tiny model escapes its initial plateau several times
sooner than with a 4x4 grid of 8-pixel patches). Each example's statement is drawn first, then a fair
coin for its truth, then scenes that make it so: the label is independent of the text, so the statement
alone (or the images alone) gives chance, and only a model that reads the statement AND looks at both
images beats the majority rate. Statements: a colour or a shape in one image, in both images, the exact
number of shapes in one image, which image has more shapes. A small share of training labels is flipped,
so the training set can only be fitted by memorising those pairs (what membership inference measures).
The OOD split draws the same statements over shifted images (smaller, off-centre shapes on a darker,
noisy background) as a stand-in for NLVR2's second test set.
"""
from __future__ import annotations

import functools

import numpy as np

SHAPES = ("circle", "square", "triangle")
COLOURS = {"red": (220, 40, 40), "green": (40, 180, 60), "blue": (50, 80, 230)}
_COLOUR_NAMES = tuple(COLOURS)
SIDES = ("left", "right")
GRID = 2
CELL = 16
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


#: how often each template is used: an attribute (a colour or a shape) in one image, in both images,
#: the exact number of shapes in one image, which image has more shapes
KIND_WEIGHTS = (0.5, 0.25, 0.15, 0.1)


def _has(scene, attribute: str) -> bool:
    """Whether some object of the scene has the colour or the shape ``attribute``."""
    return any(attribute in obj for obj in scene)


def _phrase(attribute: str) -> str:
    return f"a {attribute} shape" if attribute in COLOURS else f"a {attribute}"


def _sentence(rng: np.random.Generator) -> tuple[str, object, str | None]:
    """A statement of a random template, drawn BEFORE any scene, so text alone never tells its truth.

    Returns the sentence, a predicate on (left, right) scenes that says whether it holds, and the
    attribute it asks about (None for counts). Statements name one attribute, a colour or a shape, not
    both: a conjunction ("a red circle") needs a cross-modal binding the 2-layer tiny ViLT does not
    learn from a few hundred pairs (measured: it stays at the majority rate)."""
    kind = int(rng.choice(4, p=KIND_WEIGHTS))
    side = SIDES[int(rng.integers(2))]
    index = SIDES.index(side)
    if kind in (0, 1):
        attribute = (_COLOUR_NAMES + SHAPES)[int(rng.integers(len(_COLOUR_NAMES) + len(SHAPES)))]
        if kind == 0:
            return (f"the {side} image contains {_phrase(attribute)}",
                    lambda left, right: _has((left, right)[index], attribute), attribute)
        return (f"there is {_phrase(attribute)} in both images",
                lambda left, right: _has(left, attribute) and _has(right, attribute), attribute)
    if kind == 2:
        n = int(rng.integers(1, 4))
        return (f"there are exactly {n} shapes in the {side} image",
                lambda left, right: len((left, right)[index]) == n, None)
    other = SIDES[1 - index]
    return (f"the {side} image has more shapes than the {other} image",
            lambda left, right: len((left, right)[index]) > len((left, right)[1 - index]), None)


def _scene_with(rng: np.random.Generator, attribute: str | None) -> list[tuple[str, str]]:
    """A scene; with ``attribute`` given, one random object is redrawn to have it (so it occurs)."""
    scene = _scene(rng)
    if attribute is not None:
        colour, shape = _object(rng)
        scene[int(rng.integers(len(scene)))] = (attribute, shape) if attribute in COLOURS else (colour, attribute)
    return scene


def _scenes_for(sentence: str, holds, attribute: str | None, wanted: bool, rng: np.random.Generator):
    """Scenes drawn until the statement's truth is ``wanted``. For "in both images" a true statement
    is rare by chance: each image has the named attribute planted half the time, so both truth values
    come up within a few draws."""
    for _attempt in range(1000):
        plant = [attribute is not None and rng.random() < 0.5 for _ in SIDES]
        left, right = (_scene_with(rng, attribute if p else None) for p in plant)
        if holds(left, right) == wanted:
            return left, right
    raise RuntimeError(f"mini nlvr2: no scenes make {sentence!r} {wanted} in 1000 draws")


def _statement(left, right, rng: np.random.Generator) -> tuple[str, bool]:
    """A random statement and its truth value on the given scenes (kept for the generator's tests)."""
    sentence, holds, _attribute = _sentence(rng)
    return sentence, bool(holds(left, right))


def generate(n: int, seed: int, *, shifted: bool = False, label_noise: float = 0.0) -> dict[str, list]:
    """``n`` examples as columns: images as HxWx3 uint8 arrays, ``label`` 1 = true, 0 = false."""
    rng = np.random.Generator(np.random.PCG64(seed))
    out: dict[str, list] = {"left_image": [], "right_image": [], "sentence": [], "label": []}
    for _ in range(n):
        # the statement first, then a fair coin for its truth, then scenes that give it: the label is
        # independent of the text (a sentence-only model stays at chance), so only a model that reads
        # the statement AND looks at the images can beat the majority rate
        sentence, holds, attribute = _sentence(rng)
        truth = bool(rng.random() < 0.5)
        left, right = _scenes_for(sentence, holds, attribute, truth, rng)
        # the coin is always drawn, so the noisy and the clean data share every scene and statement
        if rng.random() < label_noise:
            truth = not truth
        out["left_image"].append(_render(left, rng, shifted))
        out["right_image"].append(_render(right, rng, shifted))
        out["sentence"].append(sentence)
        out["label"].append(int(truth))
    return out
