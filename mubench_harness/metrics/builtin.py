"""Registration of the built-in metrics (the same hook an external metric plugin implements).

Imports no numpy/sklearn/torch: the implementations load lazily through each spec's factory.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..hookspecs import hookimpl
from ..specs import MetricSpec

DEFAULT_FPRS = (0.01, 0.001)


class AttackArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: target false-positive rates for TPR@FPR (each needs 10/FPR non-members per test half)
    fprs: tuple[float, ...] = DEFAULT_FPRS

    @field_validator("fprs")
    @classmethod
    def _in_unit_interval(cls, v):
        if not v or any(not 0 < f < 1 for f in v):
            raise ValueError("every FPR must lie strictly between 0 and 1")
        return v


class EfficacyArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    C: float = Field(3.0, gt=0)  # SalUn's SVC regularisation
    #: cap on members and on non-members the SVC is fitted on (seeded sample; recorded in the cell's notes
    #: where it binds): the fit grows about quadratically (one core, 1-D feature: 1000 per class ≈ 0.1 s,
    #: 2000 ≈ 0.6 s, 5000 ≈ 5 s per feature), and at 2000 the two fits cost more than the cell's forward
    #: passes on a 25,000-row text task (benchmarks/perf/cell.py)
    max_per_class: int = Field(1000, ge=2)


class RMIAArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: float = Field(0.3, ge=0, le=1)  # offline approximation of the IN probability from OUT models
    gamma: float = Field(1.0, gt=0)  # likelihood-ratio threshold against each population sample


class OverallArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: apply the MU-Bench code's gates (score 0 when test performance moved too much, or Df fell well
    #: below random): on by default, as the authors' code does
    gates: bool = True
    limit: float = Field(0.2, gt=0)  # relative test-performance change that zeroes the score
    neggrad_limit: float = Field(0.4, gt=0)  # the looser gate the paper code uses for NegGrad
    neggrad_names: tuple[str, ...] = ("neggrad",)
    df_limit: float = Field(0.2, gt=0)  # relative shortfall of A_Df below 1/K that zeroes the score


class RelearnArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steps: int = Field(10, ge=1)  # fine-tuning steps of the attack
    lr: float = Field(1e-4, gt=0)  # Adam's learning rate (method-independent; small, as an attacker with few rows would)
    batch_size: int = Field(16, ge=1)
    #: what the attacker fine-tunes on: the half of Df not scored, or the Dr sample
    data: str = Field("forget", pattern="^(forget|retain)$")


def _tpr_values(prefix: str, fprs=DEFAULT_FPRS) -> tuple[str, ...]:
    out = []
    for f in fprs:
        label = f"{f * 100:g}%"
        out += [f"{prefix}/tpr@{label}fpr", f"{prefix}/fpr@{label}fpr"]
    return tuple(out)


@hookimpl
def mubench_metrics():
    yield MetricSpec(
        name="performance",
        factory="mubench_harness.metrics.performance:Performance",
        summary="Mean score on test, Df, Dr sample and OOD (with sizes); chance level (generation: the original's score) beside Df",
        direction="info",
        values=("test/score", "forget/score", "retain/score", "ood/score", "test/size", "forget/size", "retain/size",
                "ood/size", "forget/chance", "forget/majority_rate", "forget/original_score"),
        formula="{split}/score = mean over the split of the task's per-sample score in [0, 1]",
    )
    yield MetricSpec(
        name="clip_score",
        factory="mubench_harness.metrics.performance:ClipScore",
        summary="Text-to-image: mean CLIP score of generated images vs their prompts per split, the original's "
                "Df value beside it (when the task names a CLIP model)",
        direction="info",
        values=("test/clip_score", "forget/clip_score", "retain/clip_score", "forget/original_clip_score"),
        formula="clip_score = mean over the split of w·max(cos(E_I(generated image), E_T(prompt)), 0), w = 100",
    )
    yield MetricSpec(
        name="time",
        factory="mubench_harness.metrics.cost:Time",
        summary="Unlearning wall-clock seconds (method only, evaluation excluded) and the ratio to retraining",
        direction="lower",
        values=("time/seconds", "time/seconds_vs_retrain"),
        formula="time/seconds_vs_retrain = method seconds / retrain seconds",
    )
    yield MetricSpec(
        name="flos",
        factory="mubench_harness.metrics.cost:Flos",
        summary="Counted FLOs of unlearning (teacher/reference passes included) and the ratio to retraining",
        direction="lower",
        values=("flos/total", "flos/vs_retrain"),
        formula="flos/vs_retrain = method FLOs / retrain FLOs",
    )
    yield MetricSpec(
        name="mia_efficacy",
        factory="mubench_harness.metrics.mia:MIAEfficacy",
        summary="MIA-efficacy (SalUn): SVC(rbf, C=3) on true-label probability / entropy, share of Df predicted non-member",
        args=EfficacyArgs,
        direction="closer-to-retrain",
        values=("mia_efficacy/p_true", "mia_efficacy/entropy"),
        formula="share of Df predicted non-member by SVC(rbf, C=3, gamma=auto) fitted on Dr sample (member) vs test "
                "(non-member), each side a seeded sample of at most max_per_class rows (default 1000; SalUn fits on "
                "all: where the cap binds, the cell's notes say so)",
    )
    yield MetricSpec(
        name="loss_attack",
        factory="mubench_harness.metrics.mia:LossAttack",
        summary="Loss attack (score −loss): AUC and TPR at 1 % / 0.1 % FPR of Df vs held-out test half",
        args=AttackArgs,
        direction="closer-to-retrain",
        values=("loss_attack/auc",) + _tpr_values("loss_attack"),
        formula="AUC(−loss; Df vs test eval half); TPR at threshold where share(test calibration half > t) ≤ FPR",
    )
    yield MetricSpec(
        name="knowledge_gap",
        factory="mubench_harness.metrics.gap:KnowledgeGap",
        summary="Knowledge gap: AUC of −score separating Df from a Dr sample of |Df|; the original's test-vs-Dr gap as reference",
        direction="closer-to-retrain",
        values=("knowledge_gap/auc", "knowledge_gap/reference_test_vs_retain"),
        formula="P(score(Df) < score(Dr sample)) + ½ P(tie)",
    )
    yield MetricSpec(
        name="rmia",
        factory="mubench_harness.metrics.rmia:RMIA",
        summary="RMIA (Zarifzadeh et al. 2024, offline, a=0.3, γ=1) with retrained model(s) as OUT: AUC of Df vs held-out test",
        args=RMIAArgs,
        direction="closer-to-retrain",
        needs=("retrain",),
        values=("rmia/auc",),
        formula="score(x) = share of z with (Pr(x|θ)/Pr(x)) / (Pr(z|θ)/Pr(z)) > γ, Pr(·) = ½[(1+a)·mean Pr_OUT(·) + (1−a)]",
    )
    yield MetricSpec(
        name="retain_privacy",
        factory="mubench_harness.metrics.mia:RetainPrivacy",
        summary="Retain-set privacy: the loss attack on the Dr sample vs held-out test, original and unlearned",
        args=AttackArgs,
        direction="lower",
        values=("retain_privacy/auc", "retain_privacy/auc_original", "retain_privacy/auc_change")
        + _tpr_values("retain_privacy") + tuple(v + "_original" for v in _tpr_values("retain_privacy")),
        formula="AUC(−loss; Dr sample vs test eval half), unlearned and original; auc_change = unlearned − original",
    )
    yield MetricSpec(
        name="overall",
        factory="mubench_harness.metrics.overall:Overall",
        summary="MU-Bench overall score: harmonic mean of test preservation and Df at random (1/K), with the "
                "authors' gates (generation: mean of three); score_majority: against the majority rate, no gates",
        args=OverallArgs,
        direction="higher",
        values=("overall/score", "overall/score_majority", "overall/gates_applied", "overall/gated"),
        formula="H(1 − |A_test − A_test^orig|, 1 − |A_Df − 1/K|), set to 0 (gated) when |ΔA_test|/A_test^orig > 20 % "
                "(NegGrad 40 %) or (1/K − A_Df)·K > 20 %; score_majority = the same H against the majority rate, "
                "no gates; generation: mean(A_test, 1 − A_Df, knowledge gap)",
    )
    yield MetricSpec(
        name="quantization",
        factory="mubench_harness.metrics.robustness:Quantization",
        summary="Robustness of forgetting (Zhang et al. 2024): Df and test score of a copy of the model with its "
                "weight matrices quantised to 8 and 4 bits",
        direction="lower",
        opt_in=True,
        values=("robust/df_score_int8", "robust/test_score_int8", "robust/df_score_int4", "robust/test_score_int4"),
        formula="robust/{df,test}_score_int{b} = mean task score of a copy with every ≥2-D float weight W replaced by "
                "s·clamp(round(W/s), −q, q), q = 2^(b−1) − 1, s = max|W|/q (per tensor, symmetric, round to nearest)",
    )
    yield MetricSpec(
        name="relearning",
        factory="mubench_harness.metrics.robustness:Relearning",
        summary="Robustness of forgetting (Lynch et al. 2024; Hu et al. 2024): Df score on a held-out half of Df "
                "after a few fine-tuning steps of a copy on the other half (or on Dr)",
        args=RelearnArgs,
        direction="lower",
        opt_in=True,
        values=("robust/relearn_df_score_before", "robust/relearn_df_score", "robust/relearn_return"),
        formula="relearn_return = score(held-out Df half | model after `steps` Adam steps of the task loss on the "
                "other half) − score(held-out Df half | model); compare with the retrain row's return",
    )
