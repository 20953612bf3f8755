"""Methods against their authors' code: each test pins one place where an earlier version of a method
differed from its reference (issue 18) and fails on that version."""
import copy
from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.special import lambertw
from torch import nn

from mubench_harness.contracts import Outputs
from mubench_harness.data import Rows
from mubench_harness.testing import registry, setting
from mubench_harness.unlearning.corruption import retain_subset
from mubench_harness.unlearning.curriculum import SuperLoss
from mubench_harness.unlearning.terms import Term, distill

pytestmark = pytest.mark.needs_shipped_plugins  # runs the shipped tasks/families/methods


def make(name, **args):
    spec = registry().get("unlearners", name)
    return spec.load()(spec.args(**args))


def hand_superloss(loss: np.ndarray, tau: float, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Castells et al. (2020), eq. 3–4 written out: σ* = exp(−W(½·max(−2/e, (ℓ − τ)/λ))) and the
    loss (ℓ − τ)σ* + λ(log σ*)²; at the branch point W(−1/e) = −1."""
    beta = 0.5 * np.maximum(-2 / np.e, (loss - tau) / lam)
    w = np.array([-1.0 if b <= -1 / np.e + 1e-15 else lambertw(b, 0).real for b in beta])
    sigma = np.exp(-w)
    return sigma, (loss - tau) * sigma + lam * np.log(sigma) ** 2


# -- SuperLoss ---------------------------------------------------------------------------------------
def test_superloss_matches_a_hand_computation_with_lambert_w():
    lam = 0.5
    first, second = np.array([0.2, 1.0, 3.0, 7.0]), np.array([0.05, 2.0, 4.0, 9.0])
    sl = SuperLoss(lam=lam, ema=0.9)
    out1 = sl(torch.tensor(first, dtype=torch.float64))
    tau1 = first.mean()
    sigma1, value1 = hand_superloss(first, tau1, lam)
    np.testing.assert_allclose(out1.numpy(), value1, rtol=1e-9)
    out2 = sl(torch.tensor(second, dtype=torch.float64))
    tau2 = 0.9 * tau1 + 0.1 * second.mean()  # the threshold is a moving average of batch means
    _, value2 = hand_superloss(second, tau2, lam)
    np.testing.assert_allclose(out2.numpy(), value2, rtol=1e-9)
    # two hand-checked values of σ*: at ℓ = τ, W(0) = 0 so σ* = 1; at the clamp σ* = e
    sigma, _ = hand_superloss(np.array([tau1, tau1 - 100.0]), tau1, lam)
    np.testing.assert_allclose(sigma, [1.0, np.e], rtol=1e-12)
    assert sigma1[0] > 1 > sigma1[-1]  # easy samples weigh more, hard ones less


def test_ascent_term_weighs_the_positive_loss_then_negates():
    """On an ascent term the sample already forgotten (high loss) must weigh LESS than the one still
    known (low loss); weighing the negated loss inverts that (issue 18)."""
    loss = torch.tensor([0.1, 6.0], dtype=torch.float64, requires_grad=True)
    term = Term("forget", lambda m, b: b, ascent=True, curriculum=SuperLoss(lam=1.0))
    value = term(None, loss)
    value.sum().backward()
    sigma, hand = hand_superloss(loss.detach().numpy(), float(loss.detach().mean()), 1.0)
    np.testing.assert_allclose(value.detach().numpy(), -hand, rtol=1e-9)
    np.testing.assert_allclose(loss.grad.numpy(), -sigma, rtol=1e-9)  # ∂/∂ℓ of −σ·ℓ with σ constant
    assert abs(loss.grad[0]) > 1 > abs(loss.grad[1])


# -- SCRUB's τ² ----------------------------------------------------------------------------------------
class _NoiseTask:
    """Outputs of kind 'noise' straight from a linear map (a diffusion task's shape of outputs)."""

    def prepare_batch(self, batch, built):
        return batch

    def outputs(self, model, batch):
        return Outputs(model(batch["x"]), kind="noise")


def test_tau_squared_scales_logit_kl_only_never_noise_mse():
    torch.manual_seed(0)
    student, teacher = nn.Linear(3, 5), nn.Linear(3, 5)
    batch = {"x": torch.randn(4, 3)}
    noise = distill(_NoiseTask(), teacher, tau=4.0, scale_tau2=True)(student, batch)
    with torch.no_grad():
        mse = (student(batch["x"]) - teacher(batch["x"])).pow(2).mean(1)
    assert torch.allclose(noise, mse, atol=1e-6)

    class LogitTask(_NoiseTask):
        def outputs(self, model, batch):
            return Outputs(model(batch["x"]))

    kl = distill(LogitTask(), teacher, tau=4.0, scale_tau2=True)(student, batch)
    with torch.no_grad():
        hand = F.kl_div(F.log_softmax(student(batch["x"]) / 4, -1), F.softmax(teacher(batch["x"]) / 4, -1),
                        reduction="none").sum(-1) * 16
    assert torch.allclose(kl, hand, atol=1e-6)


# -- Bad-T: one forward over the mixed batch -------------------------------------------------------------
@dataclass
class _Out:
    logits: torch.Tensor


class _BatchNormMLP(nn.Module):
    """The toy task's interface (``model(x=...)``, ``.logits``) with a BatchNorm layer, as in ResNet."""

    def __init__(self, dim: int, classes: int, seed: int):
        super().__init__()
        torch.manual_seed(seed)
        self.body = nn.Sequential(nn.Linear(dim, 16), nn.BatchNorm1d(16), nn.ReLU())
        self.classifier = nn.Linear(16, classes)

    def forward(self, x):
        return _Out(self.classifier(self.body(x)))


def test_badt_runs_one_student_forward_over_the_mixed_batch():
    st = setting()
    ctx = st.context(seed=1)
    dim, classes = st.forget["x"].shape[1], int(st.train["labels"].max()) + 1
    ctx.model = _BatchNormMLP(dim, classes, seed=0).train()
    ctx.original = _BatchNormMLP(dim, classes, seed=1).eval().requires_grad_(False)
    ctx.fresh_model = lambda s: _BatchNormMLP(dim, classes, seed=s)
    student, original = copy.deepcopy(ctx.model), copy.deepcopy(ctx.original)
    forwards = []
    ctx.model.register_forward_hook(lambda *a: forwards.append(1))
    make("badt", batch_size=100_000, lr=1e-6).unlearn(ctx)  # one step over Df + 30 % of Dr
    assert ctx.result.steps == 1 and len(forwards) == 1, "one student forward per mixed batch"

    subset = retain_subset(st.context(seed=1), 0.3)
    x = torch.cat([st.forget["x"], subset["x"]])
    teacher = _BatchNormMLP(dim, classes, seed=ctx.notes["teacher_seed"]).eval()
    with torch.no_grad():
        zs = student.train()(x).logits  # batch statistics of the whole mixed batch
        target = torch.cat([teacher(st.forget["x"]).logits, original(subset["x"]).logits])
    hand = F.kl_div(F.log_softmax(zs, -1), F.softmax(target, -1), reduction="batchmean")
    assert abs(ctx.result.history[0][2] - hand.item()) < 1e-5


def test_randlabel_with_superloss_runs_one_forward_per_mixed_batch():
    st = setting()
    ctx = st.context(seed=0)
    forwards = []
    ctx.model.register_forward_hook(lambda *a: forwards.append(1))
    make("randlabel", batch_size=100_000, epochs=1, curriculum="superloss").unlearn(ctx)
    assert ctx.result.steps == 1 and len(forwards) == 1


# -- the contract's lightness check ------------------------------------------------------------------------
@pytest.mark.parametrize("body, light", [("import json\n", True), ("import torch\n", False)])
def test_unlearner_contract_fails_a_plugin_whose_top_module_imports_torch(tmp_path, monkeypatch, body, light):
    import mubench_harness.testing as kit

    package = tmp_path / "mubench_probe_plugin"
    package.mkdir()
    (package / "__init__.py").write_text(body)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))

    class Spec:
        summary, factory, taxonomy = "probe", "mubench_probe_plugin.impl:Probe", {"scope": "dense"}

    class Registry:
        def get(self, kind, name):
            return Spec()

    monkeypatch.setattr(kit, "registry", lambda: Registry())
    check = type("TestProbe", (kit.UnlearnerContract,), {"name": "probe"})()
    if light:
        check.test_spec_is_registered_and_light()
    else:
        with pytest.raises(AssertionError, match="imports torch"):
            check.test_spec_is_registered_and_light()


# -- SalUn's saliency pass: counted like a phase, timed on its own ------------------------------------------
def test_saliency_flops_are_counted_on_one_batch_and_scaled(monkeypatch):
    import mubench_harness.training as training
    from torch.utils.flop_counter import FlopCounterMode

    from mubench_harness.training import Meter
    from mubench_harness.unlearning.scope import saliency
    from mubench_harness.unlearning.terms import task_loss

    st = setting()
    with FlopCounterMode(display=False) as whole:  # every op of every batch, for reference
        saliency(copy.deepcopy(st.original), st.forget, 10, task_loss(st.task))
    counted = []
    real = training._counted
    monkeypatch.setattr(training, "_counted", lambda fn: counted.append(1) or real(fn))
    meter = Meter()
    saliency(copy.deepcopy(st.original), st.forget, 10, task_loss(st.task), meter=meter)
    assert len(counted) == 1, "only the first saliency batch runs under the op-level counter"
    assert len(st.forget) > 10 and abs(meter.flops - whole.get_total_flops()) <= 1e-9 * meter.flops

    ctx = st.context(seed=0)
    make("salun", epochs=1).unlearn(ctx)
    assert ctx.notes["saliency_seconds"] > 0 and ctx.meter.per_sample["saliency"] > 0


# -- RandLabel / SalUn relabelling --------------------------------------------------------------------------
def forget_labels_per_epoch(name, rule=None, **args):
    """Run the method and read, from each epoch's phase, the targets its Df rows were trained on."""
    from mubench_harness.context import OptimizerRule

    st = setting()
    ctx = st.context(seed=3, rule=OptimizerRule(rule) if rule else None)
    per_epoch = []
    train = ctx.train

    def spy(model, schedule, **kw):
        def watched(epoch):
            phases = schedule(epoch)
            rows = phases[0].rows
            is_f = torch.isin(rows["idx"], st.forget["idx"])
            per_epoch.append(rows["labels"][is_f][torch.argsort(rows["idx"][is_f])])
            return phases
        return train(model, watched, **kw)

    ctx.train = spy
    make(name, epochs=3, **args).unlearn(ctx)
    true = st.forget["labels"][torch.argsort(st.forget["idx"])]
    return ctx.notes, per_epoch, true


@pytest.mark.parametrize("name", ["randlabel", "salun"])
def test_relabel_defaults_follow_the_reference_under_authors_and_the_paper_otherwise(name):
    notes, labels, true = forget_labels_per_epoch(name)
    # SalUn's code: a fresh draw every epoch, over all classes (the true one included)
    assert notes["relabel"] == "epoch" and notes["relabel_include_true"] is True
    assert not torch.equal(labels[0], labels[1]) and not torch.equal(labels[1], labels[2])
    assert any(bool((epoch_labels == true).any()) for epoch_labels in labels)
    notes, labels, true = forget_labels_per_epoch(name, rule="paper")
    assert notes["relabel"] == "once" and notes["relabel_include_true"] is False
    assert torch.equal(labels[0], labels[1]) and torch.equal(labels[1], labels[2])
    assert not bool((labels[0] == true).any())


def test_relabel_choices_are_explicit_arguments():
    _, once, true = forget_labels_per_epoch("randlabel", relabel="once", include_true=True)
    _, epoch, _ = forget_labels_per_epoch("randlabel", relabel="epoch", include_true=False)
    assert all(torch.equal(once[0], e) for e in once)
    assert len({tuple(e.tolist()) for e in epoch}) == 3 and all(not bool((e == true).any()) for e in epoch)
    with pytest.raises(Exception, match="relabel"):
        make("randlabel", relabel="sometimes")


# -- recipes per task kind ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name, expect", [
    ("salun", {"lr": 1e-5, "epochs": 5, "batch_size": 8, "retain_weight": 0.5}),
    ("randlabel", {"lr": 1e-5, "epochs": 5, "batch_size": 8, "retain_weight": 0.1}),
    ("neggrad", {"lr": 1e-5, "epochs": 10, "batch_size": 8}),
    ("graddiff", {"lr": 1e-5, "epochs": 10, "batch_size": 8, "retain_weight": 0.1}),
])
def test_text_to_image_gets_the_authors_diffusion_recipe_and_explicit_values_win(name, expect):
    args = registry().get("unlearners", name).args
    default, _ = args().for_kind("classification")
    assert default == args() and default.optimizer.name != "adam"  # the main recipe: SGD or AdamW
    sd, source = args().for_kind("text_to_image")
    assert source and sd.optimizer.name == "adam" and {k: getattr(sd, k) for k in expect} == expect
    mine, _ = args(lr=3e-4, epochs=2).for_kind("text_to_image")
    assert (mine.lr, mine.epochs, mine.batch_size) == (3e-4, 2, 8)


def test_methods_without_a_published_diffusion_recipe_keep_theirs():
    for name in ("badt", "scrub", "l1sparse", "finetune", "npo"):
        args = registry().get("unlearners", name).args()
        assert args.for_kind("text_to_image") == (args, None)


# -- NPO: the authors' warm-up and decay through the one loop --------------------------------------------------
def test_lr_schedule_runs_inside_the_shared_loop():
    import functools

    from mubench_harness.training import OptimizerConfig, Phase
    from mubench_harness.unlearning.method import warmup_then_decay

    ctx = setting().context(seed=0)
    model = nn.Linear(1, 1, bias=False)
    weights = []
    rows = Rows({"x": torch.ones(4, 1), "idx": torch.arange(4)})
    phase = Phase("p", rows, 1, lambda m, b: m(b["x"]).sum())  # ∂/∂w = 1: each step moves w by −lr
    ctx.train(model, lambda e: [phase], epochs=2, optimizer=OptimizerConfig(name="sgd", lr=0.1),
              after_step=lambda: weights.append(float(model.weight.detach())),
              lr_schedule=functools.partial(warmup_then_decay, warmup=4, total=8, decay="linear"))
    start = weights[0]  # step 0 runs at factor 0 (transformers' schedule starts at 0 too)
    steps = [-(b - a) for a, b in zip([start] + weights, weights)][1:]
    assert np.allclose(steps, [0.025, 0.05, 0.075, 0.1, 0.075, 0.05, 0.025], atol=1e-7)


def test_npo_uses_its_authors_warmup_and_decay_only_under_their_recipe():
    from mubench_harness.context import OptimizerRule

    st = setting()
    ctx = st.context(seed=0)
    make("npo").unlearn(ctx)
    per_epoch = st.forget.num_batches(32)
    assert ctx.result.epochs == 10
    assert ctx.notes["lr_schedule"] == {"warmup_steps": per_epoch, "total_steps": 10 * per_epoch, "decay": "linear"}
    ctx = st.context(seed=0, rule=OptimizerRule("paper"))
    make("npo", epochs=1).unlearn(ctx)
    assert "lr_schedule" not in ctx.notes


def test_compose_mixed_relabelling_runs_one_forward_per_mixed_batch():
    st = setting()
    ctx = st.context(seed=0)
    forwards = []
    ctx.model.register_forward_hook(lambda *a: forwards.append(1))
    make("compose", corruption="data", forget_measure="loss", retain="loss", schedule="mixed",
         batch_size=100_000).unlearn(ctx)
    assert ctx.result.steps == 1 and len(forwards) == 1
