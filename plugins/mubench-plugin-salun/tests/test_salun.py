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
    """The top ``fraction`` of |∂ Σ_Df CE / ∂θ| over all entries, computed here independently of the
    harness's saliency and masking code: one full-Df backward in eval mode and a sorted threshold."""
    model = copy.deepcopy(st.original).eval()
    F.cross_entropy(model(st.forget["x"]).logits, st.forget["labels"], reduction="sum").backward()
    grads = {n: p.grad.abs() for n, p in model.named_parameters()}
    flat = torch.cat([g.flatten() for g in grads.values()])
    k = round(fraction * flat.numel())
    threshold = flat.sort(descending=True).values[k - 1]
    masks = {n: g >= threshold for n, g in grads.items()}
    assert sum(int(m.sum()) for m in masks.values()) == k, "ties at the threshold: pick another fraction"
    return masks


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
    # and the harness's own mask is that same set
    ours = top_fraction_mask(saliency(copy.deepcopy(st.original), st.forget, 7, task_loss(st.task)), 0.3)
    assert all(torch.equal(ours[n], m) for n, m in masks.items())
    assert all(not p._backward_hooks for p in out.parameters()), "gradient-mask hooks left on the returned model"


def test_salun_forgets_and_keeps_test_accuracy():
    st = setting()
    out = make().unlearn(st.context(seed=0))
    # tolerance: within 8 points of the original's test accuracy on the toy task
    assert abs(accuracy(st.task, out, st.test) - accuracy(st.task, st.original, st.test)) < 0.08
    assert accuracy(st.task, out, st.forget) < accuracy(st.task, st.original, st.forget)


# -- diffusion: a hand-made noise-prediction task whose x_t and ε are derived from each row's idx ----
from mubench_harness.context import UnlearnContext  # noqa: E402
from mubench_harness.contracts import Outputs, Task  # noqa: E402
from mubench_harness.data import Rows  # noqa: E402
from mubench_harness.unlearning.corruption import SALT_LABELS, SALT_PAIRS  # noqa: E402


class NoiseTask(Task):
    kind = "text_to_image"
    dim = 4

    def _xt_eps(self, idx):
        grid = idx[:, None].float() * torch.arange(1, self.dim + 1).float()
        return torch.cos(grid), torch.sin(grid)

    def _predict(self, model, batch):
        x_t, _ = self._xt_eps(batch["idx"])
        return model(torch.cat([x_t, batch["cond"]], 1))

    def outputs(self, model, batch):
        return Outputs(self._predict(model, batch), kind="noise")

    def per_sample_loss(self, model, batch):
        return (self._predict(model, batch) - self._xt_eps(batch["idx"])[1]).pow(2).mean(1)

    def corrupt(self, forget, pool, generator, include_true=False):
        return forget.replace(cond=pool["cond"][torch.randint(0, len(pool), (len(forget),), generator=generator)])


def noise_context(seed=0):
    g = torch.Generator().manual_seed(0)
    rows = Rows({"cond": torch.randn(40, 3, generator=g), "labels": torch.zeros(40, dtype=torch.long)})
    torch.manual_seed(0)
    original = torch.nn.Linear(NoiseTask.dim + 3, NoiseTask.dim)
    return UnlearnContext(task=NoiseTask(None), model=copy.deepcopy(original), original=copy.deepcopy(original).requires_grad_(False),
                          built=None, forget=rows.select(range(8)), retain=rows.select(range(8, 40)), seed=seed,
                          fresh_model=None, starting_model=None), original


def test_diffusion_salun_redirects_df_noise_to_another_condition():
    assert "text_to_image" in registry().get("unlearners", "salun").applies_to
    ctx, original = noise_context(seed=1)
    make(batch_size=8, epochs=1, mask_fraction=0.5).unlearn(ctx)
    task = ctx.task
    other = ctx.forget.replace(cond=ctx.retain["cond"][torch.randint(0, 32, (8,), generator=ctx.generator(SALT_LABELS))])
    partners = ctx.retain.select(torch.randint(0, 32, (8,), generator=ctx.generator(SALT_PAIRS)))
    with torch.no_grad():
        redirect = (task._predict(original, ctx.forget.columns) - task._predict(original, other.columns)).pow(2).mean(1)
        # SalUn's Stable Diffusion recipe weighs the Dr loss by α = 0.5
        hand = redirect.mean() + 0.5 * task.per_sample_loss(original, partners.columns).mean()
    assert ctx.result.steps == 1 and abs(ctx.result.history[0][2] - hand.item()) < 1e-6
    assert "Stable Diffusion" in ctx.notes["kind_recipe"]
    assert ctx.notes["optimizer"] == {"name": "adam", "lr": 1e-5, "momentum": 0.0, "weight_decay": 0.0}
    changed = sum(int((p != q).sum()) for p, q in zip(ctx.model.parameters(), original.parameters()))
    total = sum(p.numel() for p in original.parameters())
    assert 0 < changed <= total // 2  # only the salient half may move
