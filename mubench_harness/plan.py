"""``mubench plan FILE``: what a benchmark costs before it starts, loading no weights and no hub data.

Per (task, family, scale): the training recipe (resolved by the SAME
:func:`~mubench_harness.training_recipes.benchmark_recipes` the run uses), the dataset sizes, the cells,
the parameter count and an estimate of compute:

* parameters: scales built offline (``tiny``) are built with their parameters on the meta device;
  hub scales are not fetched: their count comes from :data:`HUB_PARAMETERS` (the model cards, rounded);
* dataset sizes: ``hub`` sources from :data:`HUB_SIZES` (the splits the task's hub loader reads, the
  paper's Table 1; README "Datasets at real scale"), ``mini`` sources from the mini data itself;
* FLOs ≈ 6 · parameters · tokens per sample · samples per training pass (forward + backward), and
  2 · parameters · tokens per sample per evaluated sample; tokens per sample from :data:`TOKENS`;
* per (seed): the original (trained: recipe epochs over D; given: nothing), then per ratio: the retrain
  (recipe epochs over Dr), each other method at most its budget (``max_fraction_of_retrain`` × the retrain,
  one recipe epoch on Dr for a given original; an upper bound: methods stop there), and every cell's
  evaluation on test, Df and a Dr sample of the test set's size;
* ``lr_search``: per method, one run per candidate on the first ratio, counted at the method's budget;
* GPU-hours = FLOs / (``tflops`` · 10¹² · ``mfu``) / 3600 at the stated peak throughput and utilisation.

Light at import: torch (through accelerate) is imported only to build offline scales.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

#: parameters of each hub checkpoint (model cards / papers, rounded): plan never downloads a config
HUB_PARAMETERS = {
    "microsoft/resnet-18": 11.7e6, "microsoft/resnet-34": 21.8e6, "microsoft/resnet-50": 25.6e6,
    "google/mobilenet_v2_1.0_224": 3.5e6, "facebook/convnext-tiny-224": 28.6e6, "facebook/convnext-base-224": 88.6e6,
    "google/vit-base-patch16-224-in21k": 86.4e6, "google/vit-large-patch16-224-in21k": 304e6,
    "microsoft/swin-tiny-patch4-window7-224": 28.3e6, "microsoft/swin-base-patch4-window7-224": 87.8e6,
    "google-bert/bert-base-uncased": 110e6, "google-bert/bert-large-uncased": 336e6,
    "distilbert/distilbert-base-uncased": 66e6, "google/electra-base-discriminator": 110e6,
    "dmis-lab/biobert-v1.1": 108e6, "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract": 110e6,
    "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract-fulltext": 110e6,
    "dandelin/vilt-b32-finetuned-nlvr2": 87.4e6,
    "facebook/hubert-base-ls960": 94.7e6, "facebook/hubert-large-ll60k": 316e6, "facebook/hubert-xlarge-ll60k": 964e6,
    "facebook/wav2vec2-base": 95e6, "facebook/wav2vec2-large": 317e6,
    "openai/whisper-tiny": 39e6, "openai/whisper-base": 74e6,
    "MCG-NJU/videomae-base": 86e6, "MCG-NJU/videomae-large": 304e6,
    "google/t5-v1_1-small": 77e6, "google/t5-v1_1-base": 248e6, "google/t5-v1_1-large": 783e6,
    "google/t5-v1_1-xl": 2.85e9,
    "chavinlo/alpaca-native": 6.74e9, "chavinlo/alpaca-13b": 13.0e9, "lmsys/vicuna-7b-v1.3": 6.74e9,
    "lmsys/vicuna-13b-v1.3": 13.0e9,
    "CompVis/stable-diffusion-v1-4": 860e6,  # the UNet, which is what unlearning trains
}

#: (train, test) of each task's hub source: the splits its loader reads (README, Table 1)
HUB_SIZES = {
    "cifar100": (50_000, 10_000), "imdb": (25_000, 25_000), "ddi2013": (25_296, 5_716), "nlvr2": (86_373, 6_967),
    "speechcommands": (84_848, 4_890), "ucf101": (9_537, 3_783), "samsum": (14_732, 819), "biofact": (183, 37),
    "tinyimagenet": (20_000, 10_000),
}

#: tokens (or token-equivalents) one sample costs a forward pass, and why
TOKENS = {
    "cifar100": (197, "224 px image as 196 16-px patches + [CLS] (CNNs: the same equivalent)"),
    "nlvr2": (2 * (145 + 40), "two images of ViLT's ~145 32-px patches, each with a 40-token statement"),
    "speechcommands": (50, "1 s of 16 kHz audio = 50 frames of 20 ms (Whisper pads to 30 s: 1500; not counted)"),
    "ucf101": (1568, "16 frames, tubelets of 2 × 16 × 16 px at 224 px: 8 × 196"),
    "samsum": (640, "512 dialogue tokens + 128 summary tokens"),
    "biofact": (512, "a biography of up to 512 tokens"),
    "tinyimagenet": (64 * 64 // 4, "the UNet's 64 × 64 latent (token-equivalents: 1/4 of its positions)"),
}
DEFAULT_TOKENS = (1, "one unit per sample")
RULE = ("FLOs ≈ 6 · params · tokens/sample · samples per training pass (forward + backward), 2 · params · "
        "tokens/sample per evaluated sample; methods at most their budget (an upper bound); an lr search adds, "
        "per method, one budget-sized run per candidate")


@dataclass
class PlanRow:
    task: str
    model: str
    scale: str
    recipe: Any  # the resolved TrainRecipe
    train: int
    test: int
    cells: int
    parameters: float
    parameters_from: str
    tokens: int
    flops: float
    given: bool
    notes: list[str] = field(default_factory=list)


def _tokens(task: str, raw_args: dict, spec) -> tuple[int, str]:
    if "max_length" in spec.args.model_fields:  # text tasks: the truncation length is the file's or the default
        n = raw_args.get("max_length", spec.args.model_fields["max_length"].default)
        if n:
            return int(n), "max_length tokens"
    return TOKENS.get(task, DEFAULT_TOKENS)


def _parameters(task_obj, family, scale: str, hub_id: str | None) -> tuple[float, str]:
    if hub_id is not None:
        if hub_id in HUB_PARAMETERS:
            return HUB_PARAMETERS[hub_id], "model card"
        raise ValueError(f"no parameter count for {hub_id!r}: add it to mubench_harness.plan.HUB_PARAMETERS")
    from accelerate import init_empty_weights

    # parameters on the meta device (shapes only, no memory, no weights read); other tensors stay real, as
    # a family may read the task's data while it builds (a tokenizer fitted on the training texts)
    with init_empty_weights():
        built = family.build(task_obj, scale, init="random", seed=0)
    return float(sum(p.numel() for p in built.model.parameters())), "meta-device build"


def plan(bench, registry, base_dir: Path) -> list[PlanRow]:
    """One row per (task, family, scale) of ``bench`` (a phase-1 :class:`~mubench_harness.config.Benchmark`)."""
    from .training_recipes import benchmark_recipes

    recipes = benchmark_recipes(SimpleNamespace(bench=bench, registry=registry))
    budget = bench.budget.max_fraction_of_retrain
    rows = []
    for t in bench.tasks:
        spec = registry.get("tasks", t.name)
        methods = [u for u in bench.unlearners if spec.kind in registry.get("unlearners", u.name).applies_to]
        retrains = sum(registry.get("unlearners", u.name).is_retrain for u in methods)
        task_obj = mini = None
        if t.source == "mini":
            task_obj = spec.load()(spec.args.model_validate(t.args, context={"base_dir": base_dir, "source": "mini"}))
            mini = task_obj.load("mini")
            n_train, n_test = len(mini["train"]), len(mini["test"])
        else:
            n_train, n_test = HUB_SIZES.get(t.name, (0, 0))
        tokens, _ = _tokens(t.name, t.args, spec)
        for m in t.models:
            mspec = registry.get("models", m.name)
            for scale in m.scales:
                hub_id = mspec.scales.get(scale)
                if hub_id is None and task_obj is None:  # an offline scale on hub data: build for the mini task
                    task_obj = spec.load()(spec.args())
                    task_obj.load("mini")
                family = mspec.load()(mspec) if hub_id is None else None
                params, source = _parameters(task_obj, family, scale, hub_id)
                given = scale in mspec.given and (not m.checkpoint or not isinstance(m.checkpoint, str))
                recipe = recipes[(t.name, m.name, scale)]
                per_seed = 0.0 if given or m.checkpoint else 6 * params * tokens * n_train * recipe.epochs
                n_methods = len(methods) - (retrains if given else 0)
                for ratio in bench.deletion_ratios:
                    n_forget = max(1, round(n_train * ratio / 100))
                    retrain = 6 * params * tokens * (n_train - n_forget) * (1 if given else recipe.epochs)
                    others = n_methods - (0 if given else retrains)
                    per_seed += (0 if given else retrains * retrain) + others * budget * retrain
                    per_seed += (n_methods + 1) * 2 * params * tokens * (n_test + n_forget + min(n_test, n_train - n_forget))
                cells = len(bench.seeds) * len(bench.deletion_ratios) * (n_methods + 1)
                flops = per_seed * len(bench.seeds)
                if bench.optimizer.lr_search:  # once per method: each candidate on the first ratio's Dr
                    n_forget = max(1, round(n_train * bench.deletion_ratios[0] / 100))
                    epochs = 1 if given else recipe.epochs
                    flops += (n_methods - (0 if given else retrains)) * len(bench.optimizer.lr_search) * budget \
                        * 6 * params * tokens * (n_train - n_forget) * epochs
                rows.append(PlanRow(t.name, m.name, scale, recipe, n_train, n_test, cells, params, source, tokens,
                                    flops, given))
    return rows


def gpu_hours(flops: float, tflops: float, mfu: float) -> float:
    return flops / (tflops * 1e12 * mfu) / 3600


def _count(parameters: float) -> str:
    return f"{parameters / 1e6:,.1f}M" if parameters >= 1e6 else f"{int(parameters):,}"


def render(rows: list[PlanRow], tflops: float, mfu: float) -> str:
    from tabulate import tabulate

    table = []
    for r in rows:
        rc = r.recipe
        table.append([r.task, f"{r.model}:{r.scale}", f"{rc.optimizer} lr {rc.lr:g} bs {rc.batch_size} × {rc.epochs} ep"
                      + (" (given)" if r.given else ""), f"{r.train:,}", f"{r.test:,}", f"{r.cells:,}",
                      f"{_count(r.parameters)} ({r.parameters_from})", r.tokens, f"{r.flops:.3g}",
                      f"{gpu_hours(r.flops, tflops, mfu):,.3g}"])
    total = sum(r.flops for r in rows)
    lines = [tabulate(table, headers=["task", "model", "recipe", "train", "test", "cells", "parameters", "tokens/sample",
                                      "FLOs", "GPU-h"]),
             "",
             f"total: {sum(r.cells for r in rows):,} cells, {total:.3g} FLOs, "
             f"{gpu_hours(total, tflops, mfu):,.4g} GPU-hours at {tflops:g} TFLOP/s peak × {mfu:g} utilisation",
             f"rule: {RULE}",
             "recipe sources: " + "; ".join(sorted({f'{r.task}: {r.recipe.source}' for r in rows if r.recipe.source}))]
    return "\n".join(lines)
