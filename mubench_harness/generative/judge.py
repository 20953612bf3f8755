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


class NLIJudge:
    """A fact judge for generated text, as FActScore judges atomic facts with a model: a fact counts as
    supported when an NLI classifier (named by the user: a hub id or local folder that
    ``AutoModelForSequenceClassification`` loads, with an ``entailment`` label) gives the generation ⊨ fact
    an entailment probability of at least ``threshold``. Loaded once; frozen, eval mode."""

    def __init__(self, name: str, *, threshold: float = 0.5, batch_size: int = 32, max_length: int = 512,
                 device: torch.device | None = None):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.name, self.threshold, self.batch_size, self.max_length = name, threshold, batch_size, max_length
        self.device = device or torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = AutoTokenizer.from_pretrained(name)
        self.model = AutoModelForSequenceClassification.from_pretrained(name).to(self.device).eval().requires_grad_(False)
        labels = {i: str(v).lower() for i, v in self.model.config.id2label.items()}
        found = [i for i, v in labels.items() if v.startswith("entail")]
        if len(found) != 1:
            raise ValueError(f"judge {name!r}: no single 'entailment' label among {sorted(labels.values())}")
        self.entailment = found[0]

    @torch.no_grad()
    def entailment_probs(self, premises: list[str], hypotheses: list[str]) -> torch.Tensor:
        out = []
        for i in range(0, len(premises), self.batch_size):
            enc = self.tokenizer(premises[i:i + self.batch_size], hypotheses[i:i + self.batch_size], truncation="only_first",
                                 max_length=self.max_length, padding=True, return_tensors="pt").to(self.device)
            out.append(self.model(**enc).logits.float().softmax(-1)[:, self.entailment].cpu())
        return torch.cat(out) if out else torch.zeros(0)

    def fact_support(self, text: str, facts: list[str]) -> float:
        """Share of ``facts`` the judge finds entailed by ``text`` (0 for an empty list)."""
        if not facts:
            return 0.0
        probs = self.entailment_probs([text] * len(facts), list(facts))
        return float((probs >= self.threshold).float().mean())
