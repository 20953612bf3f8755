import copy

import pytest
import torch

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
    assert accuracy(st.task, rt, st.test) >= accuracy(st.task, npo, st.test)


def test_not_offered_for_diffusion():
    assert "text_to_image" not in registry().get("unlearners", "npo").applies_to
