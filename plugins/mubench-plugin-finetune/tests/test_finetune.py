import numpy as np
import torch
import torch.nn.functional as F

from mubench_harness.testing import UnlearnerContract, accuracy, registry, setting


def make(**args):
    spec = registry().get("unlearners", "finetune")
    return spec.load()(spec.args(**args))


class TestContract(UnlearnerContract):
    name = "finetune"


def test_first_step_loss_is_the_mean_cross_entropy_on_dr_and_df_is_never_used(monkeypatch):
    st = setting()
    ctx = st.context(seed=0)
    seen = []
    loss = st.task.per_sample_loss
    monkeypatch.setattr(st.task, "per_sample_loss", lambda m, b: seen.append(b["idx"].clone()) or loss(m, b))
    make(epochs=1, batch_size=len(st.retain)).unlearn(ctx)
    monkeypatch.undo()
    with torch.no_grad():
        hand = F.cross_entropy(st.original(st.retain["x"]).logits, st.retain["labels"]).item()
    assert abs(ctx.result.history[0][2] - hand) < 1e-5
    assert not np.isin(torch.cat(seen).numpy(), st.forget["idx"].numpy()).any()


def test_finetune_keeps_test_accuracy():
    st = setting()
    out = make().unlearn(st.context(seed=0))
    assert abs(accuracy(st.task, out, st.test) - accuracy(st.task, st.original, st.test)) < 0.05
