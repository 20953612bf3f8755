"""The fixed image classifier that judges generated images (MU-Bench's Table 4 check), trained once,
deterministically, on the task's real training images through the shared loop."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..contracts import seeded
from ..data import Rows
from ..training import OptimizerConfig, Phase, make_optimizer, run_loop


class SmallCNN(nn.Module):
    """Two conv blocks and a linear head; inputs in [-1, 1] are resized to ``size`` first."""

    def __init__(self, num_classes: int, size: int = 32, width: int = 16):
        super().__init__()
        self.size = size
        self.features = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(4), nn.Flatten())
        self.head = nn.Linear(2 * width * 16, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.shape[-1] != self.size:
            images = F.interpolate(images, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return self.head(self.features(images))


def train_judge(pixels: torch.Tensor, labels: torch.Tensor, num_classes: int, *, size: int = 32,
                epochs: int = 8, seed: int = 0) -> SmallCNN:
    """Train a :class:`SmallCNN` on uint8 images [N, 3, R, R]; returned frozen, in eval mode."""
    with seeded(seed):
        model = SmallCNN(num_classes, size)
    rows = Rows({"x": pixels, "labels": labels})

    def loss(m, b):
        return F.cross_entropy(m(b["x"].float() / 127.5 - 1.0), b["labels"])

    # the judge is trained lazily, often from inside an evaluation's no_grad block
    with torch.enable_grad():
        run_loop(model, lambda e: [Phase("judge", rows, 64, loss)], epochs=epochs,
                 optimizer=make_optimizer(model.parameters(), OptimizerConfig(name="adam", lr=3e-3)), seed=seed)
    return model.eval().requires_grad_(False)
