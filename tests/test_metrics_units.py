"""Each metric against values computed by hand on small arrays."""
from __future__ import annotations

import math

import numpy as np
import pytest

from mubench_harness.metrics import Evaluation
from mubench_harness.metrics.builtin import AttackArgs, EfficacyArgs, OverallArgs, RMIAArgs
from mubench_harness.metrics.common import (
    auc,
    attack_values,
    halves,
    min_negatives,
    nonmember_halves,
    threshold_at_fpr,
    tpr_at_fpr,
)
from mubench_harness.metrics.cost import Flos, Time
from mubench_harness.metrics.gap import KnowledgeGap
from mubench_harness.metrics.mia import LossAttack, MIAEfficacy, RetainPrivacy, svc_efficacy
from mubench_harness.metrics.overall import Overall
from mubench_harness.metrics.performance import Performance
from mubench_harness.metrics.rmia import RMIA, rmia_scores


def sig(loss=None, *, score=None, p_true=None, entropy=None, idx=None):
    """Signals from losses (p_true = exp(−loss)) or from probabilities, the other fields consistent."""
    if loss is None:
        p_true = np.asarray(p_true, dtype=float)
        loss = -np.log(np.clip(p_true, 1e-12, 1))
    loss = np.asarray(loss, dtype=float)
    n = len(loss)
    p = np.exp(-loss) if p_true is None else np.asarray(p_true, dtype=float)
    return {
        "loss": loss,
        "score": np.asarray(score if score is not None else (p > 0.5).astype(float), dtype=float),
        "p_true": p,
        "entropy": np.asarray(entropy if entropy is not None else -p * np.log(np.clip(p, 1e-12, 1)), dtype=float),
        "margin": np.zeros(n),
        "idx": np.arange(n) if idx is None else np.asarray(idx),
    }


# -- shared statistics --------------------------------------------------------------------------------

def test_auc_counts_ties_as_half():
    # pairs (pos > neg): 3>0, 3>2, 2>0, 2=2 (½), 1>0, 1<2  → 4.5 / 6
    assert auc(np.array([3.0, 2, 1]), np.array([0.0, 2])) == pytest.approx(0.75)
    assert auc(np.array([1.0]), np.array([])) is None


def test_threshold_keeps_calibration_fpr_at_target():
    cal = np.arange(100.0)
    assert threshold_at_fpr(cal, 0.1) == 89.0  # exactly 10 of 100 calibration scores lie above 89
    assert np.mean(cal > threshold_at_fpr(cal, 0.1)) == pytest.approx(0.1)
    assert threshold_at_fpr(cal, 0.01) == 98.0


def test_tpr_at_fpr_uses_calibration_threshold_on_evaluation_half():
    cal, ev_half = np.arange(100.0), np.arange(100.0) - 0.5
    tpr, fpr = tpr_at_fpr(np.array([95.0, 89.0, 100.0]), cal, ev_half, 0.1)
    assert tpr == pytest.approx(2 / 3)  # 95 and 100 lie above the threshold 89; 89 itself does not
    assert fpr == pytest.approx(0.1)  # 89.5 ... 98.5 of the evaluation half: 10 of 100


def test_tpr_needs_ten_over_fpr_nonmembers():
    assert min_negatives(0.01) == 1000 and min_negatives(0.001) == 10000
    assert tpr_at_fpr(np.ones(5), np.arange(999.0), np.arange(999.0), 0.01) is None
    assert tpr_at_fpr(np.ones(5), np.arange(1000.0), np.arange(1000.0), 0.01) is not None
    ev = Evaluation({}, {})
    out = attack_values("loss_attack", ev, np.ones(3), np.arange(200.0), np.arange(200.0), (0.01,))
    assert out["loss_attack/tpr@1%fpr"] is None
    assert "too few non-members" in ev.na_reasons["loss_attack/tpr@1%fpr"]


def test_halves_are_disjoint_and_cover():
    cal, evl = halves(11, np.random.default_rng(0))
    assert len(cal) == 5 and len(evl) == 6
    assert not set(cal) & set(evl) and set(cal) | set(evl) == set(range(11))


# -- MIA-efficacy -------------------------------------------------------------------------------------

def test_svc_efficacy_on_separable_data():
    rng = np.random.default_rng(0)
    members, nonmembers = rng.uniform(0.9, 1.0, 100), rng.uniform(0.0, 0.3, 100)
    assert svc_efficacy(members, nonmembers, np.full(10, 0.05)) == 1.0
    assert svc_efficacy(members, nonmembers, np.full(10, 0.97)) == 0.0
    assert svc_efficacy(members, nonmembers, np.r_[np.full(3, 0.05), np.full(7, 0.97)]) == pytest.approx(0.3)


def test_mia_efficacy_metric_on_both_features():
    rng = np.random.default_rng(1)
    retain = sig(p_true=rng.uniform(0.9, 1.0, 80), entropy=rng.uniform(0.0, 0.1, 80))
    test = sig(p_true=rng.uniform(0.0, 0.3, 100), entropy=rng.uniform(1.0, 1.5, 100))
    # Df: a quarter looks like members on p_true; half looks like members on entropy
    forget = sig(p_true=np.r_[np.full(2, 0.95), np.full(6, 0.1)], entropy=np.r_[np.full(4, 0.05), np.full(4, 1.2)])
    s = {"test": test, "retain": retain, "forget": forget}
    out = MIAEfficacy(EfficacyArgs()).compute(Evaluation(s, s))
    assert out == {"mia_efficacy/p_true": pytest.approx(0.75), "mia_efficacy/entropy": pytest.approx(0.5)}


def test_mia_efficacy_constant_feature_is_na_with_reason():
    s = {k: sig(p_true=np.full(n, 0.5)) for k, n in (("test", 10), ("retain", 10), ("forget", 3))}
    ev = Evaluation(s, s)
    assert MIAEfficacy(EfficacyArgs()).compute(ev)["mia_efficacy/p_true"] is None
    assert "constant" in ev.na_reasons["mia_efficacy/p_true"]


# -- loss attack and retain privacy -------------------------------------------------------------------

def _attack_eval(forget_loss, test_loss, retain_loss, original_retain_loss=None, seed=0):
    s = {"test": sig(test_loss), "forget": sig(forget_loss), "retain": sig(retain_loss)}
    o = dict(s, retain=sig(original_retain_loss if original_retain_loss is not None else retain_loss))
    return Evaluation(s, o, seed=seed)


def test_loss_attack_auc_against_evaluation_half_only():
    test_loss = np.linspace(0.0, 2.0, 40)
    ev = _attack_eval(np.array([0.05, 0.5, 3.0]), test_loss, np.zeros(5))
    out = LossAttack(AttackArgs(fprs=(0.1,))).compute(ev)
    _, evaluation = nonmember_halves(ev)
    # by hand: AUC of −loss = share of (Df, evaluation non-member) pairs where Df has the lower loss
    f, t = np.array([0.05, 0.5, 3.0]), test_loss[evaluation]
    expected = np.mean([(x < y) + 0.5 * (x == y) for x in f for y in t])
    assert out["loss_attack/auc"] == pytest.approx(expected)
    assert out["loss_attack/tpr@10%fpr"] is None  # 20 non-members per half < 10 / 0.1


def test_loss_attack_tpr_at_fpr_with_enough_nonmembers():
    rng = np.random.default_rng(0)
    test_loss = rng.uniform(0.0, 1.0, 4000)  # 2000 per half ≥ 10 / 1 %
    forget_loss = np.r_[np.zeros(30), np.full(70, 0.5)]  # 30 % certainly below every non-member's loss
    ev = _attack_eval(forget_loss, test_loss, np.zeros(5))
    out = LossAttack(AttackArgs()).compute(ev)
    assert out["loss_attack/tpr@1%fpr"] == pytest.approx(0.3)
    assert out["loss_attack/fpr@1%fpr"] == pytest.approx(0.01, abs=0.006)
    assert out["loss_attack/tpr@0.1%fpr"] is None and "10000 needed" in ev.na_reasons["loss_attack/tpr@0.1%fpr"]


def test_loss_attack_scores_diverged_model():
    ev = _attack_eval(np.array([np.nan, np.inf, 0.1]), np.linspace(0.2, 1.0, 10), np.zeros(3))
    out = LossAttack(AttackArgs(fprs=(0.5,))).compute(ev)
    assert math.isfinite(out["loss_attack/auc"])
    assert out["loss_attack/auc"] == pytest.approx(1 / 3)  # NaN/inf losses rank as least member-like


def test_loss_attack_rejects_misaligned_test_signals():
    ev = _attack_eval(np.zeros(2), np.ones(6), np.zeros(2))
    ev.original = dict(ev.original, test=sig(np.ones(6), idx=np.arange(6)[::-1]))
    with pytest.raises(ValueError, match="not aligned"):
        LossAttack(AttackArgs()).compute(ev)


def test_retain_privacy_reports_original_and_change():
    test_loss = np.linspace(0.0, 2.0, 20)
    # unlearned: Dr below every test loss (fully exposed); original: Dr spread like test
    ev = _attack_eval(np.zeros(2), test_loss, np.full(6, -1.0), original_retain_loss=test_loss[::3] + 0.01)
    out = RetainPrivacy(AttackArgs(fprs=(0.5,))).compute(ev)
    assert out["retain_privacy/auc"] == 1.0
    _, evaluation = nonmember_halves(ev)
    orig = np.mean([(x < y) + 0.5 * (x == y) for x in test_loss[::3] + 0.01 for y in test_loss[evaluation]])
    assert out["retain_privacy/auc_original"] == pytest.approx(orig)
    assert out["retain_privacy/auc_change"] == pytest.approx(1.0 - orig)
    assert out["retain_privacy/tpr@50%fpr"] is None and "retain_privacy/tpr@50%fpr_original" in ev.na_reasons


# -- knowledge gap ------------------------------------------------------------------------------------

def test_knowledge_gap_by_hand():
    forget = sig(np.zeros(4), score=[0, 0, 1, 1])
    retain = sig(np.zeros(10), score=np.ones(10))
    test = sig(np.zeros(2), score=[1, 0])
    s = {"test": test, "forget": forget, "retain": retain}
    out = KnowledgeGap(None).compute(Evaluation(s, s))
    # P(score(Df) < score(Dr)) + ½ P(tie): two Df rows lose to every Dr row, two tie  → 0.5 + 0.25
    assert out["knowledge_gap/auc"] == pytest.approx(0.75)
    assert out["knowledge_gap/reference_test_vs_retain"] == pytest.approx(0.75)
    s_same = {"test": test, "forget": sig(np.zeros(4), score=np.ones(4)), "retain": retain}
    assert KnowledgeGap(None).compute(Evaluation(s_same, s))["knowledge_gap/auc"] == 0.5


# -- RMIA ---------------------------------------------------------------------------------------------

def test_rmia_scores_by_hand():
    # a = 0.3: Pr(x) = ½(1.3·p_out + 0.7). x1: 0.9 / 0.675 = 1.333; x2: 0.1 / 0.415 = 0.241
    # population: z_target [0.5, 0.9, 0.2], z_out [0.5, 0.5, 0.0] → ratios [0.741, 1.333, 0.571]
    got = rmia_scores(np.array([0.9, 0.1]), np.array([0.5, 0.1]), np.array([0.5, 0.9, 0.2]), np.array([0.5, 0.5, 0.0]))
    assert got == pytest.approx([2 / 3, 0.0])  # the tie with z2 (ratio exactly 1 at γ = 1) does not count
    got = rmia_scores(np.array([0.9]), np.array([0.5]), np.array([0.5, 0.9, 0.2]), np.array([0.5, 0.5, 0.0]), gamma=1.5)
    assert got == pytest.approx([2 / 3])  # 1.333 / 0.741 = 1.8 > 1.5, 1.333 / 0.571 = 2.33 > 1.5


def test_rmia_metric_needs_retrain_and_separates_members():
    rng = np.random.default_rng(0)
    test_p = rng.uniform(0.2, 0.8, 200)
    s = {"test": sig(p_true=test_p), "forget": sig(p_true=np.full(20, 0.99)), "retain": sig(p_true=np.full(5, 0.99))}
    ev = Evaluation(s, s)
    assert RMIA(RMIAArgs()).compute(ev) == {"rmia/auc": None} and "no retrained" in ev.na_reasons["rmia/auc"]
    ref = {"test": sig(p_true=test_p), "forget": sig(p_true=np.full(20, 0.5)), "retain": s["retain"]}
    assert RMIA(RMIAArgs()).compute(Evaluation(s, s, retrain=ref))["rmia/auc"] == 1.0
    # a target that behaves like the OUT model on Df is not detected
    s_out = dict(s, forget=ref["forget"])
    assert RMIA(RMIAArgs()).compute(Evaluation(s_out, s, retrain=ref))["rmia/auc"] == pytest.approx(0.5, abs=0.1)


# -- performance, cost, overall -----------------------------------------------------------------------

def test_performance_reports_chance_or_original_score():
    s = {"test": sig(np.zeros(4), score=[1, 1, 0, 1]), "forget": sig(np.zeros(2), score=[0, 1]),
         "retain": sig(np.zeros(3), score=[1, 1, 1])}
    o = dict(s, forget=sig(np.zeros(2), score=[1, 1]))
    out = Performance(None).compute(Evaluation(s, o, chance=0.5))
    assert out["test/score"] == 0.75 and out["forget/score"] == 0.5 and out["forget/chance"] == 0.5
    assert out["retain/size"] == 3
    # imbalanced 4-class data: the chance column is MU-Bench's 1/K, the majority rate sits beside it
    out = Performance(None).compute(Evaluation(s, o, chance=0.7, num_classes=4))
    assert out["forget/chance"] == 0.25 and out["forget/majority_rate"] == 0.7
    ev = Evaluation(s, o, kind="seq2seq")
    out = Performance(None).compute(ev)
    assert out["forget/chance"] is None and out["forget/original_score"] == 1.0 and "forget/chance" in ev.na_reasons


def test_time_and_flos_relative_to_retrain():
    ev = Evaluation({}, {}, seconds=3.0, flops=10.0, retrain_seconds=12.0, retrain_flops=40.0)
    assert Time(None).compute(ev) == {"time/seconds": 3.0, "time/seconds_vs_retrain": 0.25}
    assert Flos(None).compute(ev) == {"flos/total": 10.0, "flos/vs_retrain": 0.25}
    ev = Evaluation({}, {}, seconds=3.0, flops=10.0)
    assert Time(None).compute(ev)["time/seconds_vs_retrain"] is None and "no retrain" in ev.na_reasons["time/seconds_vs_retrain"]


def _overall_eval(test, test_orig, forget, chance=0.25, unlearner="scrub", kind="classification", num_classes=None):
    s = {"test": sig(np.zeros(len(test)), score=test), "forget": sig(np.zeros(len(forget)), score=forget),
         "retain": sig(np.zeros(4), score=np.ones(4))}
    return Evaluation(s, dict(s, test=sig(np.zeros(len(test_orig)), score=test_orig)), chance=chance,
                      unlearner=unlearner, kind=kind, num_classes=num_classes)


def test_overall_harmonic_mean_by_hand():
    # 4 classes, majority rate 0.4 on imbalanced data: test 0.8 vs original 0.9, Df 0.3
    ev = _overall_eval([1, 1, 1, 1, 0] * 2, [1] * 9 + [0], [1, 1, 1] + [0] * 7,
                       chance=0.4, num_classes=4)
    kept = 1 - 0.1
    paper, ours = 1 - abs(0.3 - 0.25), 1 - abs(0.3 - 0.4)  # against 1/K = 0.25, against the majority rate
    out = Overall(OverallArgs()).compute(ev)
    assert out == {"overall/score": pytest.approx(2 * kept * paper / (kept + paper)),
                   "overall/score_majority": pytest.approx(2 * kept * ours / (kept + ours)),
                   "overall/gates_applied": 1.0, "overall/gated": 0.0}
    assert "1/K = 0.25" in ev.definitions["overall/score"] and "gates on" in ev.definitions["overall/score"]


def test_overall_gates_are_the_paper_default_and_looser_for_neggrad():
    test, orig, forget = [1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 1]  # test moved 40 % relative → > 20 %
    k4 = dict(num_classes=4)
    assert Overall(OverallArgs()).compute(_overall_eval(test, orig, forget, **k4))["overall/score"] == 0.0
    ungated = Overall(OverallArgs(gates=False)).compute(_overall_eval(test, orig, forget, **k4))
    assert ungated["overall/score"] > 0 and ungated["overall/gates_applied"] == 0.0 and ungated["overall/gated"] == 0.0
    gated = Overall(OverallArgs())
    out = gated.compute(_overall_eval(test, orig, forget, **k4))
    assert out["overall/gated"] == 1.0 and out["overall/score_majority"] > 0  # our variant has no gate
    assert gated.compute(_overall_eval(test, orig, forget, unlearner="neggrad", **k4))["overall/score"] > 0  # 40 % ≤ 40 %
    assert gated.compute(_overall_eval([1, 0, 0, 0, 0], orig, forget, unlearner="neggrad", **k4))["overall/score"] == 0.0


def test_overall_df_gate_zeroes_worse_than_random():
    test = orig = [1] * 10
    # K = 4, 1/K = 0.25: Df at 0.2 is 20 % below (not more): kept; Df at 0.1 is 60 % below: zeroed
    at_edge = Overall(OverallArgs()).compute(_overall_eval(test, orig, [1] + [0] * 4, num_classes=4))
    assert at_edge["overall/score"] == pytest.approx(2 * 0.95 / 1.95) and at_edge["overall/gated"] == 0.0
    below = Overall(OverallArgs()).compute(_overall_eval(test, orig, [1] + [0] * 9, num_classes=4))
    assert below["overall/score"] == 0.0 and below["overall/gated"] == 1.0
    assert below["overall/score_majority"] == pytest.approx(2 * 0.85 / 1.85)  # vs chance 0.25, no gate
    # the gate's limit is an argument
    assert Overall(OverallArgs(df_limit=0.7)).compute(_overall_eval(test, orig, [1] + [0] * 9, num_classes=4))["overall/score"] > 0


def test_overall_generation_is_mean_of_three():
    ev = _overall_eval([0.6, 0.6], [0.7, 0.7], [0.2, 0.2], kind="seq2seq")
    gap = KnowledgeGap(None).compute(ev)["knowledge_gap/auc"]
    assert gap == 1.0  # every Df score 0.2 is below every Dr score 1
    assert Overall(OverallArgs()).compute(ev)["overall/score"] == pytest.approx((0.6 + 0.8 + 1.0) / 3)


def test_as_model_swaps_in_reference_signals():
    s = {"test": sig(np.zeros(2), score=[0, 0])}
    o = {"test": sig(np.zeros(2), score=[1, 1])}
    ev = Evaluation(s, o, seconds=2.0)
    ref = ev.as_model("original")
    assert ref.signals is o and ref.seconds is None and ev.signals is s
    with pytest.raises(ValueError, match="no retrained model"):
        ev.as_model("retrain")
    ev.retrain, ev.retrain_seconds = o, 9.0
    assert ev.as_model("retrain").seconds == 9.0


def test_rmia_averages_every_out_model():
    test_p = np.linspace(0.2, 0.99, 100)
    s = {"test": sig(p_true=test_p), "forget": sig(p_true=np.full(10, 0.9)), "retain": sig(p_true=np.full(5, 0.9))}
    ref_a = {"test": sig(p_true=test_p), "forget": sig(p_true=np.full(10, 0.9))}
    ref_b = {"test": sig(p_true=test_p), "forget": sig(p_true=np.full(10, 0.1))}
    # a single OUT model that also rates Df at 0.9 makes Df less remarkable; averaging in one at 0.1 lowers
    # Pr(x) (mean OUT 0.5) and exposes Df as members
    alone = RMIA(RMIAArgs()).compute(Evaluation(s, s, retrain=ref_a))["rmia/auc"]
    both = RMIA(RMIAArgs()).compute(Evaluation(s, s, retrain=ref_a, out_models=[ref_b]))["rmia/auc"]
    only_outs = RMIA(RMIAArgs()).compute(Evaluation(s, s, out_models=[ref_a, ref_b]))["rmia/auc"]
    assert both == only_outs and alone + 0.05 < both


def test_every_metric_runs_on_a_generation_cell():
    """Token-averaged signals of a generation task: continuous scores (ROUGE-L), p_true = exp(−mean NLL)."""
    from mubench_harness import testing

    rng = np.random.default_rng(0)

    def gen_sig(n, nll_low, nll_high, score_low, score_high):
        return sig(rng.uniform(nll_low, nll_high, n), score=rng.uniform(score_low, score_high, n))

    s = {"test": gen_sig(60, 2.0, 4.0, 0.2, 0.5), "forget": gen_sig(10, 3.0, 5.0, 0.1, 0.3),
         "retain": gen_sig(60, 0.5, 1.5, 0.6, 0.9)}
    o = dict(s, forget=gen_sig(10, 0.5, 1.5, 0.6, 0.9))
    ev = Evaluation(s, o, kind="causal_lm", seconds=1.0, flops=2.0)
    out = {}
    for spec in testing.registry().specs("metrics"):
        out.update(spec.load()(spec.args()).compute(ev))
    assert out["forget/original_score"] == pytest.approx(np.mean(o["forget"]["score"]))
    assert out["knowledge_gap/auc"] == 1.0  # every Df score below every Dr score
    assert out["overall/score"] == pytest.approx((np.mean(s["test"]["score"]) + 1 - np.mean(s["forget"]["score"]) + 1) / 3)
    assert out["loss_attack/auc"] < 0.5 and out["rmia/auc"] is None
    assert out["mia_efficacy/p_true"] == 1.0
    assert all(name in ev.na_reasons for name, value in out.items() if value is None)


def test_membership_metrics_are_na_when_the_given_original_never_saw_the_data():
    """Alpaca/Vicuna on BioFact, SD v1.4: Df, Dr and test are all outside the original's training data,
    so every membership number and the knowledge gap (and the generation overall built on it) is n/a."""
    from mubench_harness import testing

    rng = np.random.default_rng(0)
    s = {"test": sig(rng.uniform(2, 4, 60), score=rng.uniform(0.2, 0.5, 60)),
         "forget": sig(rng.uniform(3, 5, 10), score=rng.uniform(0.1, 0.3, 10)),
         "retain": sig(rng.uniform(0.5, 1.5, 60), score=rng.uniform(0.6, 0.9, 60))}
    why = "the original llama:alpaca-7b is taken as given and was not trained on biofact's training set"
    ev = Evaluation(s, s, kind="causal_lm", not_members=why, seconds=1.0, flops=2.0)
    out = {}
    for spec in testing.registry().specs("metrics"):
        out.update(spec.load()(spec.args()).compute(ev))
    membership = [n for n in out if n.split("/")[0] in ("mia_efficacy", "loss_attack", "retain_privacy", "rmia",
                                                          "knowledge_gap", "overall") and n not in
                  ("overall/gates_applied", "overall/gated")]
    assert "loss_attack/auc" in membership and "knowledge_gap/auc" in membership and "overall/score" in membership
    assert all(out[n] is None and why in ev.na_reasons[n] for n in membership), {n: out[n] for n in membership}
    assert out["test/score"] == pytest.approx(np.mean(s["test"]["score"]))  # performance is still reported
    # the same signals with members: numbers again (the gap is real: Df scores lower than Dr)
    ev = Evaluation(s, s, kind="causal_lm", seconds=1.0, flops=2.0)
    assert KnowledgeGap(None).compute(ev)["knowledge_gap/auc"] == 1.0
