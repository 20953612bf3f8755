import copy

import torch
import torch.nn.functional as F

from mubench_harness.testing import UnlearnerContract, accuracy, registry, setting
from mubench_harness.unlearning.scope import saliency, top_fraction_mask
from mubench_harness.unlearning.terms import task_loss


def make(**args):
    spec = registry().get("unlearners", "salun")
    return spec.load()(spec.args(**args))


class TestContract(UnlearnerContract):
    name = "salun"


def expected_mask(st, fraction):
    model = copy.deepcopy(st.original)
    scores = saliency(model, st.forget, 7, task_loss(st.task))  # batch size must not matter
    return top_fraction_mask(scores, fraction)


def test_saliency_sums_every_df_batch():
    st = setting()
    model = copy.deepcopy(st.original).eval()
    full = saliency(model, st.forget, 7, task_loss(st.task))  # 60 rows: the last batch is short
    F.cross_entropy(model(st.forget["x"]).logits, st.forget["labels"], reduction="sum").backward()
    for name, p in model.named_parameters():
        assert torch.allclose(full[name], p.grad.abs(), atol=1e-5), name


def test_mask_covers_the_fraction_and_masked_out_weights_stay_exactly_original():
    st = setting()
    ctx = st.context(seed=0)
    # SGD with momentum 0.9 and weight decay 5e-4 (the default): both would move frozen entries
    out = make(mask_fraction=0.3, epochs=3, lr=0.05).unlearn(ctx)
    masks = expected_mask(st, 0.3)
    total = sum(m.numel() for m in masks.values())
    assert abs(ctx.notes["mask_fraction"] - 0.3) <= 1 / total
    start, end = dict(st.original.named_parameters()), dict(out.named_parameters())
    moved = 0
    for name, m in masks.items():
        assert torch.equal(end[name][~m], start[name][~m]), f"{name}: masked-out entries moved"
        moved += int((end[name][m] != start[name][m]).sum())
    assert moved > 0.9 * sum(int(m.sum()) for m in masks.values())
    assert all(not p._backward_hooks for p in out.parameters()), "gradient-mask hooks left on the returned model"


def test_salun_forgets_and_keeps_test_accuracy():
    st = setting()
    out = make().unlearn(st.context(seed=0))
    # tolerance: within 8 points of the original's test accuracy on the toy task
    assert abs(accuracy(st.task, out, st.test) - accuracy(st.task, st.original, st.test)) < 0.08
    assert accuracy(st.task, out, st.forget) < accuracy(st.task, st.original, st.forget)
