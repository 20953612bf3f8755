import torch
import torch.nn.functional as F

from mubench_harness.testing import UnlearnerContract, accuracy, registry, setting
from mubench_harness.unlearning.corruption import SALT_PAIRS
from mubench_harness.unlearning.terms import pair_rows


def make(**args):
    spec = registry().get("unlearners", "graddiff")
    return spec.load()(spec.args(**args))


class TestContract(UnlearnerContract):
    name = "graddiff"


def test_first_step_is_minus_df_loss_plus_loss_on_paired_dr_samples():
    st = setting()
    ctx = st.context(seed=3)
    make(epochs=1, batch_size=len(st.forget)).unlearn(ctx)
    pairs = pair_rows(st.forget, st.retain, st.context(seed=3).generator(SALT_PAIRS))
    with torch.no_grad():
        hand = (-F.cross_entropy(st.original(pairs["f.x"]).logits, pairs["f.labels"])
                + F.cross_entropy(st.original(pairs["r.x"]).logits, pairs["r.labels"]))
    assert ctx.result.steps == 1 and abs(ctx.result.history[0][2] - hand.item()) < 1e-5


def test_epochs_run_over_df():
    st = setting()
    ctx = st.context(seed=0)
    make(epochs=3, batch_size=16).unlearn(ctx)
    assert ctx.result.steps == 3 * -(-len(st.forget) // 16)


def test_graddiff_forgets_df():
    st = setting()
    out = make(lr=3e-3, epochs=10, optimizer="adam").unlearn(st.context(seed=0))
    assert accuracy(st.task, out, st.forget) < accuracy(st.task, st.original, st.forget) - 0.2
