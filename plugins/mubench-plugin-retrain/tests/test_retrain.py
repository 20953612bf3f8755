import numpy as np
import torch

from mubench_harness.testing import UnlearnerContract, accuracy, params_equal, registry, setting


def make(**args):
    spec = registry().get("unlearners", "retrain")
    return spec.load()(spec.args(**args))


class TestContract(UnlearnerContract):
    name = "retrain"


def test_spec_marks_exact_unlearning():
    assert registry().get("unlearners", "retrain").is_retrain


def test_retrain_never_sees_df_and_starts_from_the_starting_weights(monkeypatch):
    st = setting()
    ctx = st.context(seed=0)
    start = ctx.starting_model()
    given = []
    ctx.starting_model = lambda: given.append(1) or start
    seen = []
    loss = st.task.per_sample_loss
    monkeypatch.setattr(st.task, "per_sample_loss", lambda m, b: seen.append(b["idx"].clone()) or loss(m, b))
    out = make(epochs=2).unlearn(ctx)
    monkeypatch.undo()
    assert given == [1] and out is start, "retrain must train the starting model, not the original"
    seen = torch.cat(seen).numpy()
    assert not np.isin(seen, st.forget["idx"].numpy()).any(), "retrain saw Df"
    assert set(seen) == set(st.retain["idx"].tolist())
    r = st.task.recipe
    assert ctx.notes["optimizer"]["name"] == r.optimizer and ctx.notes["optimizer"]["lr"] == r.lr
    assert ctx.notes["batch_sizes"] == [r.batch_size] and ctx.result.epochs == 2


def test_retrain_with_the_task_recipe_learns_and_ignores_the_paper_rule():
    from mubench_harness.context import OptimizerRule

    st = setting()
    ctx = st.context(seed=0, rule=OptimizerRule("paper"))
    out = make().unlearn(ctx)
    assert ctx.result.epochs == st.task.recipe.epochs and ctx.notes["optimizer_rule"] == "task recipe"
    assert not params_equal(out, st.original)
    assert accuracy(st.task, out, st.test) > accuracy(st.task, st.original, st.test) - 0.05
