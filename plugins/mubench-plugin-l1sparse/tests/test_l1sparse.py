import torch
import torch.nn.functional as F

from mubench_harness.testing import UnlearnerContract, params_equal, registry, setting


def make(**args):
    spec = registry().get("unlearners", "l1sparse")
    return spec.load()(spec.args(**args))


class TestContract(UnlearnerContract):
    name = "l1sparse"


def test_alpha_follows_linear_decay_and_is_nonzero_in_epoch_zero():
    st = setting()
    ctx = st.context(seed=0)
    make(epochs=4, alpha=2e-4).unlearn(ctx)
    assert ctx.notes["l1_alpha"] == [2e-4 * (1 - t / 4) for t in range(4)]
    assert ctx.notes["l1_alpha"][0] == 2e-4 > 0


def test_first_step_loss_includes_the_l1_term():
    st = setting()
    ctx = st.context(seed=0)
    make(epochs=1, alpha=1e-3, batch_size=len(st.retain)).unlearn(ctx)
    with torch.no_grad():
        ce = F.cross_entropy(st.original(st.retain["x"]).logits, st.retain["labels"])
        l1 = sum(p.abs().sum() for p in st.original.parameters())
    assert l1 > 1.0
    assert abs(ctx.result.history[0][2] - (ce + 1e-3 * l1).item()) < 1e-4


def test_l1_changes_the_result_compared_with_plain_finetuning():
    st = setting()
    with_l1 = make(epochs=2, alpha=1e-3).unlearn(st.context(seed=0))
    without = make(epochs=2, alpha=0.0).unlearn(st.context(seed=0))
    assert not params_equal(with_l1, without)
    assert sum(p.abs().sum() for p in with_l1.parameters()) < sum(p.abs().sum() for p in without.parameters())
