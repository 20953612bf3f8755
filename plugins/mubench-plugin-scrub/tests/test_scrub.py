import copy

import torch
import torch.nn.functional as F

from mubench_harness.testing import UnlearnerContract, registry, setting


def make(**args):
    spec = registry().get("unlearners", "scrub")
    return spec.load()(spec.args(**args))


class TestContract(UnlearnerContract):
    name = "scrub"


def perturbed_context(seed=0):
    """A context whose student differs from the teacher, so the first KL is not trivially 0."""
    st = setting()
    ctx = st.context(seed=seed)
    g = torch.Generator().manual_seed(99)
    with torch.no_grad():
        for p in ctx.model.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=g))
    return st, ctx


def test_first_max_step_is_minus_tau_squared_batchmean_kl_with_softmax_at_tau():
    st, ctx = perturbed_context()
    student = copy.deepcopy(ctx.model)
    make(epochs=1, max_steps=1, forget_batch_size=len(st.forget)).unlearn(ctx)
    tau = 4.0
    with torch.no_grad():
        zs, zt = student(st.forget["x"]).logits, st.original(st.forget["x"]).logits
    pt = torch.exp(zt / tau) / torch.exp(zt / tau).sum(-1, keepdim=True)
    log_ps = zs / tau - torch.logsumexp(zs / tau, -1, keepdim=True)
    hand = -(tau**2) * (pt * (pt.log() - log_ps)).sum() / len(zs)
    assert ctx.result.history[0][:2] == (0, "max")
    assert abs(ctx.result.history[0][2] - hand.item()) < 1e-4


def test_min_step_is_gamma_ce_plus_alpha_kl():
    st, ctx = perturbed_context()
    student = copy.deepcopy(ctx.model)
    make(epochs=1, max_steps=0, batch_size=len(st.retain), gamma=0.5, alpha=2.0, tau=2.0).unlearn(ctx)
    with torch.no_grad():
        zs, zt = student(st.retain["x"]).logits, st.original(st.retain["x"]).logits
    kl = F.kl_div(F.log_softmax(zs / 2, -1), F.softmax(zt / 2, -1), reduction="batchmean") * 4
    hand = 0.5 * F.cross_entropy(zs, st.retain["labels"]) + 2.0 * kl
    assert ctx.result.history[0][1] == "min" and abs(ctx.result.history[0][2] - hand.item()) < 1e-4


def test_phases_interleave_per_epoch_with_one_shared_optimiser():
    st, ctx = perturbed_context()
    calls = []
    train = ctx.train
    ctx.train = lambda *a, **k: calls.append(k["optimizer"]) or train(*a, **k)
    make().unlearn(ctx)
    assert len(calls) == 1, "one optimiser for both passes: the loop is entered once"
    assert [(e, name) for e, name, _ in ctx.result.history] == [(0, "max"), (0, "min"), (1, "max"), (1, "min"), (2, "min")]
    assert calls[0].name == "sgd" and calls[0].lr == 5e-4 and calls[0].momentum == 0.9 and calls[0].weight_decay == 5e-4


def test_scrub_max_pass_pushes_df_away_from_the_teacher():
    # At θ = θo the KL and its gradient are 0, so ascent starts from a slightly moved student (in
    # SCRUB proper, the min passes move it); with γ = α = 0 only the max passes act.
    st, ctx = perturbed_context()

    def kl_to_teacher(model):
        with torch.no_grad():
            return F.kl_div(F.log_softmax(model(st.forget["x"]).logits, -1),
                            F.softmax(st.original(st.forget["x"]).logits, -1), reduction="batchmean")

    before = kl_to_teacher(ctx.model)
    out = make(lr=0.01, optimizer="adam", epochs=3, max_steps=3, alpha=0.0, gamma=0.0, forget_batch_size=16).unlearn(ctx)
    assert kl_to_teacher(out) > 2 * before
