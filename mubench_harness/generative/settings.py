"""Decoding / sampling settings of generative tasks: pydantic models without torch, so a plugin's
light top module can embed them in its task args (they are validated and recorded with results)."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator


class Decoding(BaseModel):
    """How a text task generates when it scores a sample (recorded with every result)."""

    model_config = ConfigDict(extra="forbid")
    max_new_tokens: int = Field(48, ge=1, description="tokens generated per sample")
    num_beams: int = Field(1, ge=1, description="1: greedy (or sampling with do_sample); >1: beam search")
    do_sample: bool = Field(False, description="sample instead of greedy/beam decoding")
    top_p: float = Field(1.0, gt=0, le=1, description="nucleus sampling mass (with do_sample)")
    seed: int = Field(0, description="sample i draws its tokens from a generator seeded seed + idx, so its "
                                    "text does not depend on the batch it is generated in")
    batch_size: int = Field(32, ge=1, description="samples generated together")

    @model_validator(mode="after")
    def _one_sequence_per_sample(self):
        # per-sample seeding draws one token per row and step; beam sampling keeps num_beams rows per sample
        if self.do_sample and self.num_beams > 1:
            raise ValueError("do_sample with num_beams > 1 (beam sampling) is not supported: "
                             "sampling is seeded per sample, which needs num_beams: 1")
        return self


class Sampling(BaseModel):
    """How a text-to-image task generates images when it scores a sample."""

    model_config = ConfigDict(extra="forbid")
    steps: int = Field(20, ge=1, description="DDIM denoising steps")
    guidance_scale: float = Field(1.0, ge=1.0, description="classifier-free guidance; 1.0: none")
    seed: int = Field(0, description="image j of sample i starts from latents seeded seed + idx·k + j "
                                    "(k = images_per_prompt)")
    images_per_prompt: int = Field(1, ge=1, description="images generated per sample; the sample's score, "
                                   "entropy, margin and CLIP score are means over them (less seed noise)")
    batch_size: int = Field(32, ge=1, description="images generated together")


def fill_source_defaults(args: BaseModel, info: ValidationInfo, defaults: dict[str, dict[str, BaseModel]]) -> BaseModel:
    """Fill the generation settings ``args`` leaves at ``None`` with ``defaults[source][field]``, the source
    being the benchmark file's (``mubench validate`` passes it in the validation context), so the settings
    a run used are recorded resolved. Without a source (args built in code) they stay ``None`` and the
    task resolves them when it loads a source (:func:`for_source`)."""
    source = (info.context or {}).get("source")
    for name, value in defaults.get(source, {}).items():
        if getattr(args, name) is None:
            setattr(args, name, value.model_copy())
    return args


def for_source(args: BaseModel, name: str, source: str | None, defaults: dict[str, dict[str, Any]]) -> Any:
    """``args.<name>``, or the default of ``source`` (``mini`` when none was loaded yet) if it is ``None``."""
    value = getattr(args, name, None)
    return value if value is not None else defaults[source or "mini"][name].model_copy()
