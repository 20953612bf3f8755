import copy
import math

import pytest
import torch
from pydantic import BaseModel

from mubench_harness.context import UnlearnContext
from mubench_harness.data import Rows
from mubench_harness.generative.diffusion import TextToImageTask
from mubench_harness.testing.diffusion import tiny_diffusion_model

from mubench_harness.testing import UnlearnerContract, accuracy, registry, setting
from mubench_npo.impl import npo_measure


def make(name="npo", **args):
    spec = registry().get("unlearners", name)
    return spec.load()(spec.args(**args))


class TestContract(UnlearnerContract):
    name = "npo"


class TestRetainContract(UnlearnerContract):
    name = "npo_rt"


@pytest.mark.parametrize("beta", [0.1, 1.0])
def test_gradient_at_the_reference_is_minus_the_nll_gradient(beta):
    st = setting()
    model = copy.deepcopy(st.original)
    batch = st.forget.columns
    npo = npo_measure(st.task, st.original, beta)(model, batch).mean()
    g_npo = torch.autograd.grad(npo, list(model.parameters()))
    nll = st.task.sequence_nll(model, batch).mean()
    g_nll = torch.autograd.grad(nll, list(model.parameters()))
    for a, b in zip(g_npo, g_nll):
        assert torch.allclose(a, -b, atol=1e-6)
    # and the value there is (2/β)·log 2
    assert abs(npo.item() - 2 / beta * torch.log(torch.tensor(2.0)).item()) < 1e-5


def test_npo_raises_df_loss_and_npo_rt_keeps_more_test_accuracy():
    st = setting()
    args = {"lr": 3e-3, "epochs": 10, "optimizer": "adam"}
    npo = make("npo", **args).unlearn(st.context(seed=0))
    rt = make("npo_rt", **args).unlearn(st.context(seed=0))
    assert accuracy(st.task, npo, st.forget) < accuracy(st.task, st.original, st.forget) - 0.2
    # strictly: the retain term must buy test accuracy, not merely tie
    assert accuracy(st.task, rt, st.test) > accuracy(st.task, npo, st.test)


# -- diffusion: ℓ = ‖ε − ε̂(x_t, t, c)‖² summed, on the real text-to-image primitives --------------------
class _Args(BaseModel):
    noise_seed: int = 0


class _ImageTask(TextToImageTask):
    pass


def _diffusion_context(seed=0):
    original = tiny_diffusion_model()
    g = torch.Generator().manual_seed(1)
    rows = Rows({"pixel_values": torch.rand(24, 3, 8, 8, generator=g) * 2 - 1,
                 "input_ids": torch.randint(3, 20, (24, 6), generator=g),
                 "attention_mask": torch.ones(24, 6, dtype=torch.long), "labels": torch.zeros(24, dtype=torch.long)})
    frozen = copy.deepcopy(original).requires_grad_(False)
    ctx = UnlearnContext(task=_ImageTask(_Args()), model=copy.deepcopy(original).train(), original=frozen, built=None,
                         forget=rows.select(range(8)), retain=rows.select(range(8, 24)), seed=seed,
                         fresh_model=None, starting_model=None)
    return ctx, original


def _summed_denoising_error(task, model, rows):
    model.eval()
    with torch.no_grad():  # outside the loop: the fixed evaluation noise
        return float(task.sequence_nll(model, rows.columns).mean())


def test_applies_to_text_to_image_with_the_first_step_at_its_reference_value():
    assert "text_to_image" in registry().get("unlearners", "npo").applies_to
    ctx, original = _diffusion_context()
    before = _summed_denoising_error(ctx.task, original, ctx.forget)
    make("npo", lr=1e-3, epochs=3, batch_size=8, optimizer="adam", beta=0.1).unlearn(ctx)
    # step 1 runs at θ = θref on noise shared by both: each sample's loss is exactly (2/β)·log 2
    assert abs(ctx.result.history[0][2] - 20 * math.log(2)) < 1e-4
    assert _summed_denoising_error(ctx.task, ctx.model, ctx.forget) > before, "NPO raises Df's denoising error"
