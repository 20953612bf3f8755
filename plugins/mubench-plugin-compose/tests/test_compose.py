import pydantic
import pytest

from mubench_harness.testing import UnlearnerContract, params_equal, registry, setting
from mubench_harness.training import OptimizerConfig, Phase


def make(**args):
    spec = registry().get("unlearners", "compose")
    return spec.load()(spec.args(**args))


class TestContract(UnlearnerContract):
    name = "compose"


class TestBadTeacherComposition(UnlearnerContract):
    name = "compose"
    args = {"corruption": "model", "forget_measure": "logits", "retain": "logits", "schedule": "mixed",
            "retain_fraction": 0.3}


class TestSalUnComposition(UnlearnerContract):
    name = "compose"
    args = {"corruption": "data", "forget_measure": "loss", "retain": "loss", "schedule": "mixed",
            "scope": "saliency", "optimizer": "sgd", "lr": 0.01}


@pytest.mark.parametrize("bad", [
    {"corruption": "data", "forget_measure": "logits"},
    {"corruption": "model", "forget_measure": "loss"},
    {"corruption": "none", "forget_measure": "none", "retain": "none"},
])
def test_invalid_compositions_fail_at_validation(bad):
    with pytest.raises(pydantic.ValidationError):
        registry().get("unlearners", "compose").args(**bad)


def test_neggrad_composition_equals_the_hand_written_phase():
    st = setting()
    out = make(retain="none", lr=1e-2, epochs=2, batch_size=16).unlearn(st.context(seed=0))
    ctx = st.context(seed=0)
    ascent = Phase("forget", ctx.forget, 16, lambda m, b: -st.task.per_sample_loss(m, b).mean())
    ctx.train(ctx.model, lambda e: [ascent], epochs=2, optimizer=OptimizerConfig(name="adam", lr=1e-2))
    assert params_equal(out, ctx.model)


def test_saliency_scope_holds_masked_entries():
    st = setting()
    ctx = st.context(seed=0)
    out = make(corruption="gradient", retain="loss", scope="saliency", mask_fraction=0.2,
               optimizer={"name": "sgd", "momentum": 0.9, "weight_decay": 0.01}, lr=0.01).unlearn(ctx)
    start = dict(st.original.named_parameters())
    unchanged = sum(int((p == start[n]).sum()) for n, p in out.named_parameters())
    total = sum(p.numel() for p in out.parameters())
    assert ctx.notes["mask_fraction"] == pytest.approx(0.2, abs=1 / total)
    assert unchanged >= round(0.8 * total)
