import torch
import torch.nn.functional as F
from scipy.stats import chisquare

from mubench_harness.testing import UnlearnerContract, accuracy, registry, setting
from mubench_harness.unlearning.corruption import corrupted_forget


def make(**args):
    spec = registry().get("unlearners", "randlabel")
    return spec.load()(spec.args(**args))


class TestContract(UnlearnerContract):
    name = "randlabel"


class TestWithLoraAndCurriculum(UnlearnerContract):
    name = "randlabel"
    args = {"lora": {"rank": 4}, "curriculum": "superloss", "epochs": 2}


def test_labels_are_never_true_and_uniform_over_the_other_classes():
    st = setting()
    k = st.task.num_classes
    counts = torch.zeros(k, k)
    for seed in range(40):  # 40 runs × |Df| draws
        new = corrupted_forget(st.context(seed=seed))["labels"]
        counts.index_put_((st.forget["labels"], new), torch.ones(len(new)), accumulate=True)
    assert counts.diagonal().sum() == 0, "the true label was kept"
    for true in range(k):
        others = [counts[true, c].item() for c in range(k) if c != true]
        assert chisquare(others).pvalue > 1e-3, f"labels for class {true} are not uniform over the others: {others}"


def test_include_true_draws_from_all_classes():
    st = setting()
    kept = sum(int((corrupted_forget(st.context(seed=s), include_true=True)["labels"] == st.forget["labels"]).sum())
               for s in range(10))
    assert 0 < kept < 10 * len(st.forget) / 2


def test_first_step_loss_is_one_mean_over_corrupted_df_and_dr():
    st = setting()
    ctx = st.context(seed=7)
    corrupted = corrupted_forget(st.context(seed=7))
    make(epochs=1, batch_size=len(st.forget) + len(st.retain), relabel="once", include_true=False).unlearn(ctx)
    x = torch.cat([st.forget["x"], st.retain["x"]])
    y = torch.cat([corrupted["labels"], st.retain["labels"]])
    with torch.no_grad():
        hand = F.cross_entropy(st.original(x).logits, y).item()
    assert ctx.result.steps == 1 and abs(ctx.result.history[0][2] - hand) < 1e-5


def test_randlabel_forgets_df_and_keeps_test_accuracy():
    st = setting()
    out = make().unlearn(st.context(seed=0))
    # tolerance: within 8 points of the original's test accuracy on the toy task
    assert abs(accuracy(st.task, out, st.test) - accuracy(st.task, st.original, st.test)) < 0.08
    assert accuracy(st.task, out, st.forget) < accuracy(st.task, st.original, st.forget)
