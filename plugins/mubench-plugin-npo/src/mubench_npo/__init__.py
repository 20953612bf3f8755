"""mubench plugin npo: Negative Preference Optimization, and NPO with a retain term. No torch here."""
from typing import Literal

from pydantic import Field

from mubench_harness import hookimpl
from mubench_harness.specs import UnlearnerSpec
from mubench_harness.unlearning.args import MethodArgs, OptimizerArgs, adam


class Args(MethodArgs):
    """Authors' recipe (Zhang et al. 2024; TOFU/config/forget.yaml of licong-lin/negative-preference-
    optimization): AdamW lr 1e-5, weight decay 0.01, 10 epochs, batch 32 (4 × 4 accumulation × 2 GPUs),
    β = 0.1, through transformers' Trainer: linear warm-up over the first epoch, then linear decay to 0."""

    lr: float = Field(1e-5, gt=0, description="learning rate")
    epochs: int = Field(10, ge=1, description="passes over Df")
    warmup_epochs: float = Field(1.0, ge=0, description="linear learning-rate warm-up from 0, in epochs (authors' rule only)")
    lr_decay: Literal["constant", "linear"] = Field("linear", description="after warm-up: linear to 0 (authors' rule only)")
    batch_size: int = Field(32, ge=1)
    optimizer: OptimizerArgs = adam("adamw", weight_decay=0.01)
    beta: float = Field(0.1, gt=0, description="NPO inverse temperature β")


class RTArgs(Args):
    retain_weight: float = Field(1.0, ge=0, description="weight of the NLL on Dr")


# Diffusion: ℓ is the summed denoising error ‖ε − ε̂‖², the per-sample negative-ELBO term standing in
# for the likelihood, on noise shared by θ and the reference within a step.
APPLIES = ("classification", "seq2seq", "causal_lm", "text_to_image")


@hookimpl
def mubench_unlearners():
    yield UnlearnerSpec(
        name="npo",
        factory="mubench_npo.impl:NPO",
        summary="NPO: −(2/β)·logσ(β(ℓθ − ℓref)) on Df with ℓ the summed target NLL",
        args=Args,
        applies_to=APPLIES,
        taxonomy={"forget_measure": "loss (vs reference)", "corrupt": "gradient", "retain": "-", "scope": "dense"},
    )
    yield UnlearnerSpec(
        name="npo_rt",
        factory="mubench_npo.impl:NPORetain",
        summary="NPO-RT: NPO on Df + 1.0·NLL on a random Dr sample paired with each Df sample",
        args=RTArgs,
        applies_to=APPLIES,
        taxonomy={"forget_measure": "loss (vs reference)", "corrupt": "gradient", "retain": "loss", "scope": "dense"},
    )
