"""Core-level tests of the taxonomy pieces in mubench_harness.unlearning, on hand-made tensors and the
toy setting (no method plugin needed)."""
import copy
import math

import pydantic
import pytest
import torch
import torch.nn.functional as F

from mubench_harness.context import OptimizerRule
from mubench_harness.contracts import Outputs
from mubench_harness.data import Rows
from mubench_harness.testing import params_equal, setting
from mubench_harness.training import OptimizerConfig, make_optimizer
from mubench_harness.unlearning.args import CurriculumArgs, LoraArgs, MethodArgs
from mubench_harness.unlearning.corruption import corrupted_forget, incompetent_teacher, retain_subset
from mubench_harness.unlearning.curriculum import SuperLoss
from mubench_harness.unlearning.measure import kl_per_sample
from mubench_harness.unlearning.method import PieceMethod
from mubench_harness.unlearning.scope import LoraScope, SaliencyMask, lora_targets, top_fraction_mask
from mubench_harness.unlearning.terms import Term, by_membership, membership, pair_rows, task_loss


def hand_kl(zs, zt, tau):
    """Σ_c p_T (log p_T − log p_S) at temperature τ, written out without kl_div."""
    pt = torch.exp(zt / tau) / torch.exp(zt / tau).sum(-1, keepdim=True)
    ps = torch.exp(zs / tau) / torch.exp(zs / tau).sum(-1, keepdim=True)
    return (pt * (pt.log() - ps.log())).sum(-1)


# -- knowledge measurement ------------------------------------------------------------------------
def test_kl_is_teacher_first_at_temperature_and_batchmean():
    g = torch.Generator().manual_seed(0)
    zs, zt = torch.randn(5, 7, generator=g), torch.randn(5, 7, generator=g)
    per = kl_per_sample(Outputs(zs), Outputs(zt), tau=4.0)
    assert torch.allclose(per, hand_kl(zs, zt, 4.0), atol=1e-6)
    batchmean = F.kl_div(F.log_softmax(zs / 4, -1), F.softmax(zt / 4, -1), reduction="batchmean")
    assert torch.allclose(per.mean(), batchmean, atol=1e-6)
    # teacher-first: swapping the roles changes the value (KL is not symmetric)
    assert not torch.allclose(per, kl_per_sample(Outputs(zt), Outputs(zs), tau=4.0))
    assert torch.allclose(kl_per_sample(Outputs(zt), Outputs(zt)), torch.zeros(5), atol=1e-6)


def test_token_kl_averages_over_masked_target_tokens_only():
    g = torch.Generator().manual_seed(1)
    zs, zt = torch.randn(2, 3, 5, generator=g), torch.randn(2, 3, 5, generator=g)
    mask = torch.tensor([[1, 1, 0], [0, 0, 1]])
    per = kl_per_sample(Outputs(zs, mask), Outputs(zt, mask), tau=2.0)
    tok = hand_kl(zs, zt, 2.0)
    assert torch.allclose(per, torch.stack([tok[0, :2].mean(), tok[1, 2]]), atol=1e-6)
    zs2 = zs.clone()
    zs2[0, 2] += 100.0  # a masked-out position cannot change the measure
    assert torch.allclose(kl_per_sample(Outputs(zs2, mask), Outputs(zt, mask), tau=2.0), per)


def test_noise_outputs_compare_by_mse_and_kinds_must_match():
    a, b = torch.zeros(2, 3, 4, 4), torch.ones(2, 3, 4, 4)
    b[1] *= 2
    per = kl_per_sample(Outputs(a, kind="noise"), Outputs(b, kind="noise"))
    assert torch.allclose(per, torch.tensor([1.0, 4.0]))
    with pytest.raises(ValueError, match="kind"):
        kl_per_sample(Outputs(a, kind="noise"), Outputs(b))
    with pytest.raises(ValueError, match="differ"):
        kl_per_sample(Outputs(torch.zeros(2, 3)), Outputs(torch.zeros(2, 4)))


# -- curriculum ----------------------------------------------------------------------------------
def hand_sigma(loss, tau: float, lam: float) -> torch.Tensor:
    """σ* = exp(−W(½·max(−2/e, (ℓ − τ)/λ))) with scipy's Lambert W; W(−1/e) = −1 at the clamp."""
    from scipy.special import lambertw

    beta = [0.5 * max(-2 / math.e, (float(v) - tau) / lam) for v in loss]
    return torch.tensor([math.e if b <= -1 / math.e + 1e-15 else math.exp(-lambertw(b, 0).real) for b in beta],
                        dtype=torch.double)


def test_superloss_sigma_minimises_the_confidence_objective():
    sl = SuperLoss(lam=2.0)
    loss = torch.tensor([0.1, 0.8, 2.0, 5.0])
    out = sl(loss)
    tau = float(loss.mean())  # first batch initialises the threshold
    sigma = hand_sigma(loss, tau, 2.0)
    assert torch.allclose(sl.sigma(loss).double(), sigma, rtol=1e-6)
    # stationarity of (ℓ − τ)σ + λ(log σ)² in σ: (ℓ − τ) + 2λ log σ / σ = 0
    grad = (loss.double() - tau) + 2 * 2.0 * sigma.log() / sigma
    free = (loss - tau) / 2.0 / 2 > -1 / math.e  # samples not at the −2/e clamp
    assert free.tolist() == [False, True, True, True]
    assert torch.allclose(grad[free], torch.zeros(3, dtype=torch.double), atol=1e-6)
    assert math.isclose(float(sigma[0]), math.e, rel_tol=1e-6)  # the clamp: σ = exp(−W(−1/e)) = e
    assert torch.allclose(out, (loss - tau) * sigma.float() + 2.0 * sigma.float().log() ** 2, atol=1e-6)
    # easy samples (low loss) get σ > 1, hard ones σ < 1
    assert sigma[0] > 1 > sigma[-1]
    # clamp: a loss far below τ still gives a real, finite σ
    assert torch.isfinite(SuperLoss(lam=0.01)(torch.tensor([0.0, 100.0]))).all()


def test_superloss_threshold_is_a_moving_average_per_term():
    a, b = SuperLoss(), SuperLoss()
    a(torch.tensor([1.0, 3.0]))
    a(torch.tensor([4.0, 6.0]))
    b(torch.tensor([10.0]))
    assert math.isclose(a.tau, 0.9 * 2.0 + 0.1 * 5.0) and b.tau == 10.0
    with pytest.raises(ValueError):
        SuperLoss(lam=0)


def test_superloss_keeps_gradient_through_the_loss_only():
    loss = torch.tensor([0.5, 2.0], requires_grad=True)
    sl = SuperLoss()
    sl(loss).sum().backward()
    # σ is a constant: the gradient is σ*(ℓ) computed by hand
    assert torch.allclose(loss.grad.double(), hand_sigma(loss.detach(), 1.25, 1.0), rtol=1e-6)


# -- loss builders ---------------------------------------------------------------------------------
def test_by_membership_uses_one_mean_over_the_mixed_batch():
    forget = Rows({"x": torch.tensor([1.0, 2.0]), "labels": torch.zeros(2), "idx": torch.tensor([0, 3])})
    retain = Rows({"x": torch.tensor([10.0, 20.0, 30.0]), "labels": torch.zeros(3), "idx": torch.tensor([1, 2, 4])})
    f = Term("f", lambda m, b: b["x"], ascent=True)
    r = Term("r", lambda m, b: b["x"], weight=0.5)
    loss = by_membership(f, r, membership(forget, retain))
    batch = Rows.concat([forget, retain]).columns
    assert math.isclose(float(loss(None, batch)), (-1 - 2 + 0.5 * 60) / 5, rel_tol=1e-6)


def test_pair_rows_is_seeded_and_keeps_forget_idx():
    st = setting()
    a = pair_rows(st.forget, st.retain, torch.Generator().manual_seed(5))
    b = pair_rows(st.forget, st.retain, torch.Generator().manual_seed(5))
    assert torch.equal(a["idx"], st.forget["idx"]) and torch.equal(a["r.idx"], b["r.idx"])
    assert not torch.isin(a["r.idx"], st.forget["idx"]).any()


# -- corruption ------------------------------------------------------------------------------------
def test_corruption_is_drawn_once_from_the_run_seed():
    st = setting()
    a, b, c = (corrupted_forget(st.context(seed=s)) for s in (1, 1, 2))
    assert torch.equal(a["labels"], b["labels"]) and not torch.equal(a["labels"], c["labels"])
    assert (a["labels"] != st.forget["labels"]).all()


def test_retain_subset_is_disjoint_seeded_and_rejects_overlap():
    st = setting()
    a, b, c = (retain_subset(st.context(seed=s), 0.3) for s in (4, 4, 5))
    assert len(a) == round(0.3 * len(st.retain))
    assert torch.equal(a["idx"], b["idx"]) and not torch.equal(a["idx"], c["idx"])
    assert not torch.isin(a["idx"], st.forget["idx"]).any()
    ctx = st.context(seed=4)
    ctx.retain = Rows.concat([ctx.forget, ctx.retain])  # a Dr wrongly drawn from the full training set
    with pytest.raises(ValueError, match="disjoint"):
        retain_subset(ctx, 1.0)


def test_incompetent_teacher_is_fresh_and_seeded():
    st = setting()
    t1, t2 = incompetent_teacher(st.context(seed=0)), incompetent_teacher(st.context(seed=0))
    assert params_equal(t1, t2) and not params_equal(t1, st.original)
    assert not any(p.requires_grad for p in t1.parameters()) and not t1.training


# -- scope ---------------------------------------------------------------------------------------
def test_top_fraction_mask_selects_exactly_the_highest_entries():
    scores = {"a": torch.tensor([[0.1, 0.9], [0.5, 0.2]]), "b": torch.tensor([0.8, 0.0, 0.3, 0.7])}
    masks = top_fraction_mask(scores, 0.5)
    assert masks["a"].tolist() == [[False, True], [True, False]]
    assert masks["b"].tolist() == [True, False, False, True]
    assert sum(int(m.sum()) for m in masks.values()) == 4
    with pytest.raises(ValueError):
        top_fraction_mask(scores, 1.5)


def test_top_fraction_mask_breaks_ties_by_global_position():
    """Higher score first, then the lower global position (tensors in order, each flattened): of four 3s
    the first three in position order are taken, the last (b[1][1]) is not."""
    scores = {"a": torch.tensor([1.0, 3.0, 3.0]), "b": torch.tensor([[3.0, 0.0], [2.0, 3.0]])}
    masks = top_fraction_mask(scores, 3 / 7)
    assert masks["a"].tolist() == [False, True, True]
    assert masks["b"].tolist() == [[True, False], [False, False]]
    masks = top_fraction_mask(scores, 5 / 7)  # every 3, then the 2
    assert masks["b"].tolist() == [[True, False], [True, True]] and masks["a"].tolist() == [False, True, True]
    assert not any(m.any() for m in top_fraction_mask(scores, 0.0).values())
    assert all(m.all() for m in top_fraction_mask({"z": torch.zeros(5)}, 1.0).values())  # all tied at 0


def _ranks_select(parts_by_rank, k):
    """top_entries run by one thread per rank, its collectives (a sum, an all-gather) met at a barrier:
    the sharded ranks' protocol in one process. Returns each rank's masks and how many sums it joined."""
    import threading

    from mubench_harness.unlearning.scope import top_entries

    world = len(parts_by_rank)
    barrier, box, out, calls = threading.Barrier(world), [None] * world, [None] * world, [0] * world

    def meet(rank, value):
        box[rank] = value
        barrier.wait()
        everyone = list(box)
        barrier.wait()
        return everyone

    def run(rank):
        def sum_counts(values):
            calls[rank] += 1
            return [float(sum(v[i] for v in meet(rank, values))) for i in range(len(values))]

        out[rank] = top_entries(parts_by_rank[rank], k, sum_counts, lambda c: meet(rank, list(c)), rank)

    threads = [threading.Thread(target=run, args=(r,)) for r in range(world)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out, calls


@pytest.mark.parametrize("layout", ["zero3", "fsdp"])
def test_sharded_top_selection_picks_exactly_one_process_entries(layout):
    """Scores with many ties (integers 0..4), cut over 3 ranks as ZeRO-3 (each tensor flattened, split in
    equal partitions, the last one short) or FSDP2 (row chunks), each rank selecting its own entries:
    together exactly the entries one process takes, for k from 0 to every entry, each rank joining 33
    scalar sums (31 bisection steps, the count of all entries and of those above the threshold) and one
    all-gather of tie counts."""
    from mubench_harness.unlearning.scope import top_entries

    g = torch.Generator().manual_seed(0)
    whole = [torch.randint(0, 5, shape, generator=g).float() for shape in ((7, 3), (5,), (4, 4), (1, 2))]
    world = 3

    def cut(t):
        if layout == "zero3":
            n = math.ceil(t.numel() / world)
            return [t.flatten()[r * n:(r + 1) * n] for r in range(world)]
        rows = math.ceil(t.shape[0] / world)
        return [t[r * rows:(r + 1) * rows].flatten() for r in range(world)]

    pieces = [cut(t) for t in whole]
    total = sum(t.numel() for t in whole)
    for k in (0, 1, 9, 20, 31, total - 1, total):
        one = top_entries([t.flatten() for t in whole], k)
        ranks, calls = _ranks_select([[p[r] for p in pieces] for r in range(world)], k)
        for i in range(len(whole)):
            assert torch.equal(torch.cat([ranks[r][i] for r in range(world)]), one[i]), (k, i)
        assert sum(int(m.sum()) for m in one) == k
        assert calls == [0 if k == 0 else 33] * world


def test_saliency_mask_keeps_the_whole_route_unsharded_or_where_deepspeed_clips():
    """Without an accelerator (one process) SalUn's mask is the whole SaliencyMask; a DeepSpeed JSON that clips
    by the global norm keeps the whole route under ZeRO-3 too (its gradient hooks keep held entries out of
    the norm, which shard-local masks cannot), "auto" and 0 (the harness's fill) do not."""
    from types import SimpleNamespace

    from mubench_harness.unlearning.scope import _clips, saliency, saliency_mask
    from mubench_harness.unlearning.terms import task_loss

    st = setting()
    model = copy.deepcopy(st.original)
    mask = saliency_mask(model, st.forget, 10, task_loss(st.task), 0.25)
    expected = top_fraction_mask(saliency(copy.deepcopy(st.original), st.forget, 10, task_loss(st.task)), 0.25)
    assert isinstance(mask, SaliencyMask)
    assert all(torch.equal(mask.held()[n][0].cpu(), m.cpu()) for n, m in expected.items())
    mask.detach()

    def ds(config):
        return SimpleNamespace(state=SimpleNamespace(deepspeed_plugin=SimpleNamespace(deepspeed_config=config)))

    assert _clips(ds({"gradient_clipping": 1.0}))
    assert not any(_clips(ds(c)) for c in ({}, {"gradient_clipping": 0}, {"gradient_clipping": "auto"}))
    assert not _clips(SimpleNamespace(state=SimpleNamespace()))  # FSDP: no DeepSpeed plugin, nothing clips


def test_saliency_mask_holds_entries_exactly_under_momentum_and_weight_decay():
    model = torch.nn.Linear(4, 3)
    start = copy.deepcopy(model.state_dict())
    # a fixed alternating pattern: every tensor has both trainable and frozen entries (a random mask
    # can leave the 3-entry bias all frozen, and then "the trainable part moved" is vacuous)
    masks = {n: (torch.arange(p.numel()) % 2 == 0).reshape(p.shape) for n, p in model.named_parameters()}
    keeper = SaliencyMask(model, masks)
    opt = make_optimizer(model.parameters(), OptimizerConfig(name="sgd", lr=0.1, momentum=0.9, weight_decay=0.1))
    for _ in range(5):
        opt.zero_grad()
        model(torch.randn(8, 4)).pow(2).sum().backward()
        opt.step()
        keeper.after_step()
    for n, p in model.named_parameters():
        assert torch.equal(p[~masks[n]], start[n][~masks[n]])
        assert not torch.equal(p[masks[n]], start[n][masks[n]])
    keeper.detach()
    assert not keeper.hooks


def test_lora_on_the_toy_mlp_targets_linears_outside_the_head_and_merges_back():
    st = setting()
    model = copy.deepcopy(st.original)
    assert lora_targets(model, ["classifier"]) == ["body.0", "body.2"]
    scope = LoraScope(LoraArgs(trainable_fraction=0.1), "classification")
    wrapped = scope.wrap(model)
    info = scope.info
    base = sum(p.numel() for p in st.original.parameters())
    assert info["base_params"] == base and info["head_modules"] == ["classifier"]
    assert info["head_params"] == 64 * 4 + 4
    assert info["lora_params"] == info["lora_rank"] * ((8 + 64) + (64 + 64))
    assert abs(info["lora_fraction"] - 0.1) < 0.05  # the nearest rank to the asked fraction
    trainable = {n for n, p in wrapped.named_parameters() if p.requires_grad}
    assert any("classifier" in n for n in trainable) and all("lora_" in n or "classifier" in n for n in trainable)
    with torch.no_grad():  # make the adapters non-zero so merging has something to merge
        for n, p in wrapped.named_parameters():
            if "lora_B" in n:
                p.normal_()
    wrapped.eval()
    x = st.test["x"][:16]
    expect = wrapped(x=x).logits
    merged = scope.merge(wrapped)
    assert type(merged) is type(st.original) and merged.state_dict().keys() == st.original.state_dict().keys()
    assert torch.allclose(merged(x).logits, expect, atol=1e-5)
    with pytest.raises(ValueError, match="match no Linear"):
        lora_targets(st.original, ["classifier"], ["query"])


# -- a method from the pieces: optimiser rule, LoRA and curriculum axes --------------------------
class _Descent(PieceMethod):
    def run(self, ctx, model):
        from mubench_harness.training import Phase
        from mubench_harness.unlearning.terms import mean_loss

        opt, bs = self.optimizer(ctx)
        phase = Phase("retain", ctx.retain, bs, mean_loss(Term("r", task_loss(ctx.task, ctx.built), curriculum=self.superloss())))
        ctx.train(model, lambda e: [phase], epochs=self.args.epochs, optimizer=opt)


def test_paper_rule_replaces_the_authors_recipe_and_is_recorded():
    st = setting()
    ctx = st.context(seed=0, rule=OptimizerRule("paper", lr=3e-4, batch_size=32))
    _Descent(MethodArgs(optimizer="sgd", lr=0.5, batch_size=128)).unlearn(ctx)
    assert ctx.notes["optimizer_rule"] == "paper" and ctx.notes["batch_sizes"] == [32]
    assert ctx.notes["optimizer"]["name"] == "adam" and ctx.notes["optimizer"]["lr"] == 3e-4
    ctx = st.context(seed=0)
    _Descent(MethodArgs(optimizer="sgd", lr=0.5, batch_size=128)).unlearn(ctx)
    assert ctx.notes["optimizer_rule"] == "authors" and ctx.notes["optimizer"]["name"] == "sgd"


def test_lora_and_superloss_axes_through_a_method():
    st = setting()
    ctx = st.context(seed=0)
    out = _Descent(MethodArgs(lr=0.05, lora={"rank": 2}, curriculum="superloss")).unlearn(ctx)
    assert type(out) is type(st.original) and not params_equal(out, st.original)
    assert ctx.notes["lora_rank"] == 2 and ctx.notes["curriculum"]["kind"] == "superloss"
    assert all(p.requires_grad for p in out.parameters())


def test_args_shorthands_and_errors():
    a = MethodArgs(optimizer="sgd", curriculum="superloss")
    assert a.optimizer.name == "sgd" and a.curriculum == CurriculumArgs()
    with pytest.raises(pydantic.ValidationError, match="exactly one"):
        LoraArgs()
    with pytest.raises(pydantic.ValidationError, match="exactly one"):
        LoraArgs(rank=4, trainable_fraction=0.1)
    with pytest.raises(pydantic.ValidationError):
        MethodArgs(optimizer="rmsprop")


def test_representation_is_the_masked_mean_of_the_last_hidden_state():
    from transformers import BertConfig, BertForSequenceClassification

    from mubench_harness.unlearning.measure import representation, representation_mse_per_sample

    torch.manual_seed(0)
    model = BertForSequenceClassification(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
                                                     num_attention_heads=2, intermediate_size=32, num_labels=2)).eval()
    ids = torch.randint(5, 50, (2, 6))
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]])
    rep = representation(model, {"input_ids": ids, "attention_mask": mask})
    hidden = model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states[-1]
    assert rep.shape == (2, 16)
    assert torch.allclose(rep[1], hidden[1, :3].mean(0), atol=1e-6)
    assert torch.allclose(representation_mse_per_sample(rep, rep), torch.zeros(2))
    with pytest.raises(ValueError, match="hidden_states"):
        representation(setting().original, {"x": setting().test["x"][:2]})


def test_lora_on_a_tiny_bert_targets_query_value_keeps_the_head_and_merges():
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    model = BertForSequenceClassification(BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2,
                                                     num_attention_heads=2, intermediate_size=64, num_labels=3))
    scope = LoraScope(LoraArgs(trainable_fraction=0.02), "classification")
    wrapped = scope.wrap(model)
    assert scope.info["head_modules"] == ["classifier"]
    assert [t.rsplit(".", 1)[-1] for t in scope.info["lora_targets"]] == ["query", "value"] * 2
    assert abs(scope.info["lora_fraction"] - 0.02) < 0.01
    ids = torch.randint(0, 100, (2, 8))
    wrapped.eval()
    with torch.no_grad():
        for n, p in wrapped.named_parameters():
            if "lora_B" in n:
                p.normal_()
        expect = wrapped(input_ids=ids).logits
    merged = scope.merge(wrapped)
    assert type(merged) is BertForSequenceClassification
    assert torch.allclose(merged(input_ids=ids).logits, expect, atol=1e-5)
