"""The MU-Bench authors' released originals (``checkpoint: {from: mubench-release}``).

The authors fine-tuned one original per (dataset, backbone) and published it on the hub as
``jialicheng/<dataset>-<backbone>`` (CLU-UML/MU-Bench: ``experiment/<task>/gen_config.py`` names each
``hub_model_id = f'{d}-{b}'``; ``mubench/utils.py:load_base_model`` reads ``jialicheng/{data_name}-{backbone}``,
except NLVR2, where they take ``dandelin/vilt-b32-finetuned-nlvr2`` as given). Their names differ from
ours, so the tables below say, from their code, which of our tasks is which of their datasets and which
base checkpoint (by hub id, the family's scale) each backbone name stands for. A pair not listed was
never released: asking for it is bad input, with the pairs that were.

A mirror (``checkpoint: {from: mubench-release, mirror: DIR}`` or ``MUBENCH_RELEASE_MIRROR``) is a folder
laid out as the hub is: ``DIR/<org>/<name>/`` holding the repository's ``config.json`` and
``model.safetensors``. Weights are read from safetensors only (never a pickle).

Light at import (no torch).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: our task name -> the authors' dataset name (their ``data_name``, the prefix of their hub ids)
DATASET_NAMES = {
    "cifar100": "cifar100", "imdb": "imdb", "ddi2013": "ddi", "nlvr2": "nlvr2",
    "speechcommands": "speech_commands", "ucf101": "ucf101", "samsum": "samsum",
}

#: the authors' dataset name -> {base checkpoint hub id: their backbone name}. CIFAR-100, IMDB and DDI
#: from each task's gen_config.py ``backbones`` (the base ids from its ``get_full_model_name``);
#: Speech Commands from ``mubench/__init__.py``'s model map (the repository has no gen_config.py for it).
RELEASED = {
    "cifar100": {"microsoft/resnet-18": "resnet-18", "microsoft/resnet-34": "resnet-34",
                 "microsoft/resnet-50": "resnet-50", "google/vit-base-patch16-224-in21k": "vit-base",
                 "google/vit-large-patch16-224-in21k": "vit-large",
                 "microsoft/swin-tiny-patch4-window7-224": "swin-tiny",
                 "microsoft/swin-base-patch4-window7-224": "swin-base",
                 "google/mobilenet_v2_1.0_224": "mobilenet_v2", "facebook/convnext-base-224": "convnext-base-224"},
    "imdb": {"google-bert/bert-base-uncased": "bert-base", "google-bert/bert-large-uncased": "bert-large",
             "distilbert/distilbert-base-uncased": "distilbert-base",
             "google/electra-base-discriminator": "electra-base"},
    "ddi": {"dmis-lab/biobert-v1.1": "biobert",
            "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract": "pubmedbert-abstract",
            "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract-fulltext": "pubmedbert-fulltext"},
    "speech_commands": {"facebook/wav2vec2-base": "wav2vec2-base", "facebook/wav2vec2-large": "wav2vec2-large",
                        "facebook/hubert-base-ls960": "hubert-base", "facebook/hubert-large-ll60k": "hubert-large",
                        "facebook/hubert-xlarge-ll60k": "hubert-xlarge", "openai/whisper-tiny": "whisper-tiny",
                        "openai/whisper-base": "whisper-base"},
}

#: originals the authors take as given rather than release (their load_base_model)
GIVEN = {("nlvr2", "dandelin/vilt-b32-finetuned-nlvr2"): "dandelin/vilt-b32-finetuned-nlvr2"}

ORG = "jialicheng"
MIRROR_ENV = "MUBENCH_RELEASE_MIRROR"


class NotReleased(ValueError):
    """The authors released no original for this (task, model, scale)."""


@dataclass(frozen=True)
class Release:
    hub_id: str  # the authors' repository, e.g. jialicheng/imdb-bert-base
    folder: Path | None  # its copy in a local mirror; None: fetched from the hub

    @property
    def checkpoint(self) -> str:
        """What :func:`mubench_harness.resources.load_checkpoint` takes: the mirror folder or the hub id."""
        return str(self.folder) if self.folder is not None else self.hub_id


def release_id(task: str, model: str, scale: str, base_hub_id: str | None) -> str:
    """The authors' hub id of the original for ``task`` × ``model:scale`` (whose base checkpoint is
    ``base_hub_id``); :class:`NotReleased` names the pairs that exist."""
    dataset = DATASET_NAMES.get(task)
    given = GIVEN.get((dataset, base_hub_id))
    if given:
        return given
    backbone = RELEASED.get(dataset, {}).get(base_hub_id or "")
    if backbone is None:
        have = sorted(RELEASED.get(dataset, {}).values())
        what = f"for {task} they released: {', '.join(have)}" if have else \
            f"they released none for {task}" + ("" if dataset else " (not one of their datasets)")
        raise NotReleased(f"the MU-Bench authors released no original for {task} × {model}:{scale} "
                          f"({base_hub_id or 'an offline-built scale'}); {what}")
    return f"{ORG}/{dataset}-{backbone}"


def resolve_release(task: str, model: str, scale: str, base_hub_id: str | None, mirror: str | Path | None = None) -> Release:
    """The release of (task, model, scale), read from ``mirror`` (or ``$MUBENCH_RELEASE_MIRROR``) when one
    is given: then ``<mirror>/<org>/<name>/`` must hold ``model.safetensors``."""
    hub_id = release_id(task, model, scale, base_hub_id)
    root = mirror if mirror is not None else os.environ.get(MIRROR_ENV)
    if not root:
        return Release(hub_id, None)
    folder = Path(root).expanduser() / hub_id
    if not (folder / "model.safetensors").is_file():
        raise FileNotFoundError(f"release mirror {root}: no {hub_id}/model.safetensors (a mirror is laid out as the hub: "
                                f"<mirror>/<org>/<name>/config.json and model.safetensors)")
    return Release(hub_id, folder)


def checkpoint_of(checkpoint, task: str, model: str, scale: str, base_hub_id: str | None, base_dir: Path) -> str | None:
    """What a model entry's ``checkpoint`` names for one scale: a path or hub id as written, or the
    release's mirror folder / hub id for ``{from: mubench-release}``; ``None``: no checkpoint to load
    over the family's pretrained weights."""
    if checkpoint is None or isinstance(checkpoint, str):
        return checkpoint
    mirror = checkpoint.mirror
    if mirror is not None and not Path(mirror).expanduser().is_absolute():
        mirror = base_dir / mirror
    found = resolve_release(task, model, scale, base_hub_id, mirror)
    if found.folder is None and found.hub_id == base_hub_id:
        return None  # their original is the family's own checkpoint (ViLT-NLVR2), which it loads itself
    return found.checkpoint


def paper_mode_notes(v) -> list[str]:
    """What ``mubench validate`` says about a validated benchmark's paper-compatible settings."""
    from .config import ReleaseCheckpoint

    notes = []
    for t in v.bench.tasks:
        if t.splits is not None and t.splits.from_ == "file":
            notes.append(f"Df of {t.name} is exactly the rows of {v.resolve(t.splits.path)} ({t.splits.layout}; the "
                         f"authors' layout), checked against the training set when the run starts")
        for m in t.models:
            if not isinstance(m.checkpoint, ReleaseCheckpoint):
                continue
            mirror = v.resolve(m.checkpoint.mirror) if m.checkpoint.mirror else None
            for scale in m.scales:
                found = resolve_release(t.name, m.name, scale, v.registry.get("models", m.name).scales.get(scale), mirror)
                notes.append(f"the original of {t.name} × {m.name}:{scale} is the authors' {found.hub_id}"
                             + (f", read from {found.folder}" if found.folder else ""))
    return notes
