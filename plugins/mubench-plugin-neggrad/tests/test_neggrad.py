import torch
import torch.nn.functional as F

from mubench_harness.testing import UnlearnerContract, accuracy, registry, setting


def make(**args):
    spec = registry().get("unlearners", "neggrad")
    return spec.load()(spec.args(**args))


class TestContract(UnlearnerContract):
    name = "neggrad"


def test_first_step_loss_is_minus_the_mean_cross_entropy_on_df():
    st = setting()
    ctx = st.context(seed=0)
    make(epochs=1, batch_size=len(st.forget)).unlearn(ctx)  # one step over all of Df
    with torch.no_grad():
        hand = -F.cross_entropy(st.original(st.forget["x"]).logits, st.forget["labels"]).item()
    assert ctx.result.steps == 1 and abs(ctx.result.history[0][2] - hand) < 1e-5


def test_neggrad_raises_df_loss_and_drops_df_accuracy():
    st = setting()
    out = make(lr=0.01, epochs=5, batch_size=16, optimizer="adam").unlearn(st.context(seed=0))
    with torch.no_grad():
        before = F.cross_entropy(st.original(st.forget["x"]).logits, st.forget["labels"])
        after = F.cross_entropy(out(st.forget["x"]).logits, st.forget["labels"])
    assert after > before + 1.0
    assert accuracy(st.task, out, st.forget) < accuracy(st.task, st.original, st.forget) - 0.3
