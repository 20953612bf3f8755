"""``lora:`` on every kind of model family (CNN, encoder, seq2seq, causal LM, diffusion, audio, video).

Each case builds the family's tiny model, hands NegGrad with ``lora: {rank: 4}`` a few real rows of
the task, runs two steps and checks, inside the loop, that gradients reach the adapters while every
base weight stays put, then that the merged model is the base type with the frozen parts still frozen.
The original in the context is the untrained tiny model: LoRA's mechanics do not need a trained one.
"""
import copy

import numpy as np
import pytest
import torch
from torch import nn

from mubench_harness.context import UnlearnContext
from mubench_harness.testing import build_family, build_task, registry
from mubench_harness.unlearning.scope import CONVS

pytestmark = pytest.mark.needs_shipped_plugins  # runs the shipped tasks/families/methods

CASES = {
    "cnn-resnet": ("cifar100", "resnet"),
    "cnn-mobilenetv2": ("cifar100", "mobilenetv2"),
    "cnn-convnext": ("cifar100", "convnext"),
    "encoder": ("imdb", "bert"),
    "seq2seq": ("samsum", "t5"),
    "causal-lm": ("biofact", "llama"),
    "diffusion": ("tinyimagenet", "stablediffusion"),
    "audio": ("speechcommands", "hubert"),
    "video": ("ucf101", "videomae"),
}


def raw_rows(task_name: str, task, n: int):
    if task_name == "speechcommands":
        # the mini source synthesises speech with espeak-ng; LoRA only needs waveforms of the right shape
        from datasets import Dataset

        waves = np.random.default_rng(0).normal(0, 0.1, (n, 16000)).astype(np.float32)
        return Dataset.from_dict({"audio": list(waves), "label": [i % 3 for i in range(n)]})
    return task.load("mini")["train"].select(range(n))


def context(task_name: str, family_name: str) -> UnlearnContext:
    task, family = build_task(task_name), build_family(family_name)
    built = family.build(task, "tiny", seed=0)
    rows = task.encode(raw_rows(task_name, task, 8), built)
    original = copy.deepcopy(built.model).eval().requires_grad_(False)
    # a model's own frozen parts (a text encoder) stay frozen in the trainable copy
    model = copy.deepcopy(built.model).train()
    return UnlearnContext(task=task, model=model, original=original, built=built,
                          forget=rows.select(torch.arange(4)), retain=rows.select(torch.arange(4, 8)), seed=0,
                          fresh_model=lambda s: family.build(task, "tiny", init="random", seed=s).model,
                          starting_model=lambda: family.build(task, "tiny", seed=0).model)


@pytest.mark.parametrize("case", list(CASES))
def test_lora_step_on_every_family_kind(case):
    task_name, family_name = CASES[case]
    ctx = context(task_name, family_name)
    frozen_before = {n for n, p in ctx.model.named_parameters() if not p.requires_grad}
    seen = {}
    train = ctx.train

    def spy(wrapped, schedule, **kw):
        base = {n: p.detach().clone() for n, p in wrapped.named_parameters() if not p.requires_grad}
        result = train(wrapped, schedule, **kw)
        lora = {n: p for n, p in wrapped.named_parameters() if "lora_" in n}
        seen["lora_grads"] = {n: p.grad for n, p in lora.items()}
        seen["base_moved"] = [n for n, p in wrapped.named_parameters() if n in base and not torch.equal(p, base[n])]
        seen["lora_requires_grad"] = all(p.requires_grad for p in lora.values())
        seen["modules"] = dict(wrapped.named_modules())
        return result

    ctx.train = spy
    spec = registry().get("unlearners", "neggrad")
    method = spec.load()(spec.args(lora={"rank": 4}, epochs=2, batch_size=4, lr=1e-3, optimizer="adam"))
    out = method.unlearn(ctx)

    info = ctx.notes
    assert ctx.result.steps == 2
    # gradients reach every adapter: B from the first step, A once B is non-zero
    grads = seen["lora_grads"]
    assert grads and seen["lora_requires_grad"]
    assert all(g is not None and bool(g.abs().sum() > 0) for g in grads.values()), \
        [n for n, g in grads.items() if g is None or not bool(g.abs().sum() > 0)][:3]
    assert seen["base_moved"] == [], "base weights must stay exactly put under LoRA"
    # sizes: rank · (in·kernel + out) per convolution, rank · (in + out) per Linear, by hand
    modules = dict(ctx.original.named_modules())
    hand = 0
    for t in info["lora_targets"]:
        m = modules[t]
        hand += 4 * (m.in_channels * int(np.prod(m.kernel_size)) + m.out_channels if isinstance(m, CONVS)
                     else m.in_features + m.out_features)
    assert info["lora_params"] == hand
    dense = sum(p.numel() for p in ctx.original.parameters()) - sum(
        p.numel() for n, p in ctx.model.named_parameters() if n in frozen_before)
    assert info["base_params"] == dense and 0 < info["lora_fraction"] < 0.5
    # the merged model is the base type, differs from the original, and keeps frozen parts frozen
    assert type(out) is type(ctx.original)
    assert {n for n, p in out.named_parameters() if not p.requires_grad} == frozen_before
    assert any(not torch.equal(a, b) for a, b in zip(out.parameters(), ctx.original.parameters()))



def test_lora_targets_per_family_kind():
    """Which layers each kind adapts: the UNet's to_q/to_v (never the frozen text encoder), the
    convolutions of a ResNet, the ungrouped ones of a MobileNetV2, attention query/value elsewhere."""
    def targets(case):
        from mubench_harness.unlearning.args import LoraArgs
        from mubench_harness.unlearning.scope import LoraScope

        ctx = context(*CASES[case])
        scope = LoraScope(LoraArgs(rank=2), ctx.task.kind, ctx.built.info.get("lora_targets"))
        scope.wrap(ctx.model)
        return scope.info["lora_targets"], dict(ctx.original.named_modules())

    sd, _ = targets("diffusion")
    assert sd and all(t.startswith("unet.") and t.rsplit(".", 1)[-1] in ("to_q", "to_v") for t in sd)
    resnet, modules = targets("cnn-resnet")
    convs = [n for n, m in modules.items() if isinstance(m, nn.Conv2d)]
    assert resnet == convs and len(convs) >= 5
    mobile, modules = targets("cnn-mobilenetv2")
    assert mobile and all(isinstance(modules[t], nn.Conv2d) and modules[t].groups == 1 for t in mobile)
    assert any(m.groups > 1 for m in modules.values() if isinstance(m, nn.Conv2d))  # depthwise ones exist, skipped
    bert, _ = targets("encoder")
    assert {t.rsplit(".", 1)[-1] for t in bert} == {"query", "value"}


@pytest.mark.parametrize("case", ["diffusion", "cnn-resnet"])
def test_salun_with_lora_masks_the_adapters_and_leaves_the_base(case):
    """The cells the issue saw fail: SalUn × LoRA on Stable Diffusion and on a ResNet. The saliency
    mask is over the adapters (the only trainable parameters); the base weights never move."""
    ctx = context(*CASES[case])
    seen = {}
    train = ctx.train

    def spy(wrapped, schedule, **kw):
        base = {n: p.detach().clone() for n, p in wrapped.named_parameters() if not p.requires_grad}
        result = train(wrapped, schedule, **kw)
        seen["base_moved"] = [n for n, p in wrapped.named_parameters() if n in base and not torch.equal(p, base[n])]
        seen["lora_b_moved"] = any(bool(p.abs().sum() > 0) for n, p in wrapped.named_parameters() if "lora_B" in n)
        return result

    ctx.train = spy
    spec = registry().get("unlearners", "salun")
    out = spec.load()(spec.args(lora={"rank": 4}, epochs=2, batch_size=4, lr=1e-3, optimizer="adam")).unlearn(ctx)
    assert ctx.result.steps >= 2 and seen["base_moved"] == [] and seen["lora_b_moved"]
    assert abs(ctx.notes["mask_fraction"] - 0.5) < 0.01
    assert type(out) is type(ctx.original)
