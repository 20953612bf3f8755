import torch

from mubench_harness.testing import UnlearnerContract, params_equal, registry, setting
from mubench_harness.unlearning.corruption import SALT_TEACHER, retain_subset


def make(**args):
    spec = registry().get("unlearners", "badt")
    return spec.load()(spec.args(**args))


class TestContract(UnlearnerContract):
    name = "badt"


def hand_kl(zs, zt):
    pt, ps = zt.softmax(-1), zs.softmax(-1)
    return (pt * (pt.log() - ps.log())).sum(-1)


def test_teacher_is_fresh_seeded_and_first_step_loss_matches_hand_computation():
    st = setting()
    ctx = st.context(seed=2)
    built = []
    fresh = ctx.fresh_model
    ctx.fresh_model = lambda s: built.append(s) or fresh(s)
    make(batch_size=10_000).unlearn(ctx)  # one batch: Df + 30 % of Dr
    assert built == [2 * 1_000_003 + SALT_TEACHER]
    teacher = fresh(built[0]).eval()
    assert not params_equal(teacher, st.original)
    subset = retain_subset(st.context(seed=2), 0.3)
    with torch.no_grad():
        # Dr rows: the student IS the original at step 0, so their KL is 0; Df rows: KL(B‖θo)
        kl_f = hand_kl(st.original(st.forget["x"]).logits, teacher(st.forget["x"]).logits)
    hand = kl_f.sum().item() / (len(st.forget) + len(subset))
    assert ctx.result.steps == 1 and abs(ctx.result.history[0][2] - hand) < 1e-5
    assert ctx.notes["retain_subset_size"] == len(subset) == round(0.3 * len(st.retain))


def test_retain_subset_is_disjoint_from_df_and_depends_only_on_the_seed():
    st = setting()
    a, b, c = (retain_subset(st.context(seed=s), 0.3) for s in (0, 0, 1))
    assert not torch.isin(a["idx"], st.forget["idx"]).any()
    assert torch.equal(a["idx"], b["idx"]) and not torch.equal(a["idx"], c["idx"])


def test_badt_moves_df_predictions_towards_the_teacher():
    st = setting()
    ctx = st.context(seed=0)
    out = make(lr=1e-2, epochs=5, batch_size=64).unlearn(ctx)
    teacher = st.context(seed=0).fresh_model(SALT_TEACHER).eval()
    with torch.no_grad():
        before = hand_kl(st.original(st.forget["x"]).logits, teacher(st.forget["x"]).logits).mean()
        after = hand_kl(out(st.forget["x"]).logits, teacher(st.forget["x"]).logits).mean()
    assert after < 0.5 * before
