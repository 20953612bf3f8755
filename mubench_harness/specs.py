"""What the registration hooks yield: typed, import-light descriptions of components.

A spec names its implementation with a lazy ``"package.module:attr"`` target, so listing every
installed component imports no torch. The pydantic ``args`` model lives beside the spec (in the
plugin's light top module) so that ``mubench validate`` can check a component's arguments without
importing the component itself.
"""
from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo

#: Task kinds. A model family serves some kinds, a method applies to some kinds.
KINDS = ("classification", "seq2seq", "causal_lm", "text_to_image")
MODALITIES = ("tabular", "image", "text", "image-image-text", "speech", "video", "image-text")


class NoArgs(BaseModel):
    """Args model for components that take none: any key is an error."""

    model_config = ConfigDict(extra="forbid")


def _resolve(value: str, info: ValidationInfo) -> tuple[Path, str]:
    """``value`` as a path from the benchmark file's folder (the validation context's ``base_dir``)."""
    base = (info.context or {}).get("base_dir")
    path = Path(value).expanduser()
    relative = not path.is_absolute() and base is not None
    return (Path(base) / path if relative else path), (f" (relative to {base})" if relative else "")


def _existing_path(value: str, info: ValidationInfo) -> str:
    path, where = _resolve(value, info)
    if not path.exists():
        raise ValueError(f"path {value!r} does not exist{where}")
    return str(path.resolve())


def _hub_id_or_path(value: str, info: ValidationInfo) -> str:
    path, _ = _resolve(value, info)
    if value.startswith((".", "/", "~")) or path.exists():  # a local folder, as from_pretrained takes it
        return _existing_path(value, info)
    return value


#: An args field naming a local file or folder (a dataset mirror, a words file): relative paths are
#: taken from the benchmark file's folder, and a path that does not exist is an error of ``mubench
#: validate`` located at the value, not a failure once the run has started. Stored absolute.
LocalPath = Annotated[str, AfterValidator(_existing_path)]

@dataclass(frozen=True)
class Download:
    """Marks an args field as a :func:`local_download`; ``origin`` says where the data comes from."""

    origin: str


def _download_path(value: str, info: ValidationInfo) -> str:
    path, _ = _resolve(value, info)
    return str(path.resolve())


def local_download(origin: str) -> Any:
    """The type of an args field naming data the user downloads by hand (no hub copy of the size the
    paper used: BLURB's DDI pairs, UCF101's videos...). Unlike a :data:`LocalPath`, a missing path is no
    error of ``mubench validate``, which lists it with ``origin`` (``--data`` makes it one): a benchmark
    file is valid on a clean checkout. Where the data is read (``mubench run``'s preflight, before anything
    is created) a missing download is one located line. Stored absolute, as a LocalPath."""
    return Annotated[str, AfterValidator(_download_path), Download(origin)]


def _download_marker(annotation: Any) -> Download | None:
    """The :class:`Download` inside a field's annotation (``local_download(...) | None`` included)."""
    for meta in getattr(annotation, "__metadata__", ()):
        if isinstance(meta, Download):
            return meta
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _download_marker(arg)
        if found is not None:
            return found
    return None


def downloads_of(args: BaseModel) -> list[tuple[str, str, Download]]:
    """``(field, absolute path, marker)`` of every local-download field ``args`` sets."""
    out = []
    for name, info in type(args).model_fields.items():
        marker = _download_marker(info.annotation)
        value = getattr(args, name)
        if marker is not None and isinstance(value, str):
            out.append((name, value, marker))
    return out


#: An args field naming a hub repository id or a local folder (what ``from_pretrained`` takes): a value
#: that starts with ``.``, ``/`` or ``~``, or names an existing path, is a :data:`LocalPath`.
HubIdOrPath = Annotated[str, AfterValidator(_hub_id_or_path)]


def load_target(target: str) -> Any:
    """Import ``"package.module:attr"`` and return the attribute."""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise ValueError(f"target {target!r} is not of the form 'package.module:attr'")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _jsonable(value: Any) -> Any:
    """Tuples as lists, dataclasses (recipes) as dicts, recursively: what ``json.dumps`` takes."""
    if is_dataclass(value):
        return {k: _jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return list(value) if isinstance(value, tuple) else value


@dataclass
class TrainRecipe:
    """How an original model is trained; exact retraining reuses it on Dr. ``source`` says where the
    numbers come from (the MU-Bench authors' file, a model's own fine-tuning recipe), recorded with runs."""

    epochs: int = 3
    lr: float = 1e-3
    batch_size: int = 32
    optimizer: str = "adamw"
    weight_decay: float = 0.0
    momentum: float = 0.0
    source: str = ""


@dataclass(frozen=True)
class MethodAdjustment:
    """How the MU-Bench authors' unlearning recipe of a task changes for one method."""

    lr_factor: float = 1.0
    epochs: int | None = None  # None: the task's unlearning epochs
    #: deletion ratio (percent) -> the factor at that ratio instead of ``lr_factor`` (IMDB's NegGrad: ÷ 5 at
    #: 2 %, ÷ 10 at the others)
    lr_factor_at: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class UnlearningRecipe:
    """The MU-Bench authors' unlearning rule for a task (``optimizer: mubench``): one optimiser, learning
    rate, batch size and epoch count per task, adjusted per method (their ``gen_config.py``)."""

    lr: float
    epochs: int
    batch_size: int = 32
    optimizer: str = "adamw"  # the transformers Trainer's default, which the authors' scripts use
    weight_decay: float = 0.0
    methods: dict[str, MethodAdjustment] = field(default_factory=dict)
    source: str = ""


@dataclass(frozen=True)
class Spec:
    """Common shape of every registered component."""

    kind_of_spec: ClassVar[str] = "component"
    name: str
    factory: str
    summary: str
    args: type[BaseModel] = NoArgs
    requires: tuple[str, ...] = ()  # extra Python distributions or system tools the component needs

    def load(self) -> Any:
        return load_target(self.factory)

    def describe(self) -> dict[str, Any]:
        """JSON-able description for ``mubench list --json``."""
        out: dict[str, Any] = {"name": self.name, "summary": self.summary, "factory": self.factory}
        for key, value in self.__dict__.items():
            if key in out or key == "args":
                continue
            out[key] = _jsonable(value)
        out["args"] = self.args.model_json_schema().get("properties", {})
        return out


@dataclass(frozen=True)
class TaskSpec(Spec):
    """A dataset with its task primitives. ``factory`` builds a :class:`mubench_harness.contracts.Task`."""

    kind_of_spec: ClassVar[str] = "task"
    kind: str = "classification"
    modality: str = "tabular"
    sources: tuple[str, ...] = ("mini",)
    has_ood: bool = False
    #: real-scale training recipes, keyed ``"family:scale"``, ``"family"`` or ``"*"`` (most specific wins;
    #: :func:`mubench_harness.training_recipes.training_recipe`). The mini source and offline-built
    #: scales use the task class's own ``recipe`` (the tiny models' recipe).
    recipes: dict[str, TrainRecipe] = field(default_factory=dict)
    #: the MU-Bench authors' unlearning rule for this task (``optimizer: mubench``); None: they give none
    unlearning: UnlearningRecipe | None = None


@dataclass(frozen=True)
class ModelSpec(Spec):
    """An architecture family. ``scales`` maps a scale name to its hub id (``None``: built offline)."""

    kind_of_spec: ClassVar[str] = "model"
    scales: dict[str, str | None] = field(default_factory=dict)
    serves: tuple[str, ...] = ()  # task kinds and/or modalities, e.g. ("classification:image",)
    #: scales whose pretrained weights ARE the original (the paper takes ViLT-NLVR2, Alpaca/Vicuna and
    #: Stable Diffusion as given): no training, and exact retraining is not applicable to them
    given: tuple[str, ...] = ()
    #: tasks whose training set the given scales were fine-tuned on (ViLT-NLVR2: ``("nlvr2",)``): there Df
    #: and Dr are members of the original's training data; on any other task a given original never saw
    #: them, so membership attacks and the knowledge gap are n/a (Alpaca/Vicuna on BioFact, SD v1.4)
    given_members: tuple[str, ...] = ()

    def __post_init__(self):
        unknown = [s for s in self.given if s not in self.scales]
        if unknown:
            raise ValueError(f"model {self.name!r}: given scales {unknown} are not among its scales {list(self.scales)}")

    def serves_task(self, task: TaskSpec) -> bool:
        return any(
            s in (task.kind, task.modality, f"{task.kind}:{task.modality}", task.name) for s in self.serves
        )


@dataclass(frozen=True)
class UnlearnerSpec(Spec):
    """An unlearning method. ``taxonomy`` is the paper's Table 2 row for it."""

    kind_of_spec: ClassVar[str] = "unlearner"
    applies_to: tuple[str, ...] = KINDS
    taxonomy: dict[str, str] = field(default_factory=dict)
    #: True for exact unlearning: its result is the reference model for RMIA and the time budget
    is_retrain: bool = False


@dataclass(frozen=True)
class MetricSpec(Spec):
    """A metric computed from per-sample signals. ``direction`` says which way is better forgetting."""

    kind_of_spec: ClassVar[str] = "metric"
    direction: str = "higher"  # "higher", "lower", "closer-to-retrain", "info"
    needs: tuple[str, ...] = ()  # e.g. ("retrain",)
    #: the value names ``compute`` returns (``family/what``), listed by ``mubench list metrics``
    values: tuple[str, ...] = ()
    #: the definition every report prints beside the values
    formula: str = ""
    #: run only where a benchmark's ``metrics:`` names it (an attack that fine-tunes or re-evaluates a copy of
    #: the model costs more than the signals every other metric reads)
    opt_in: bool = False


@dataclass(frozen=True)
class ExecutorSpec(Spec):
    """Where a sweep's cells run. ``factory`` builds an executor from its ``args`` (the benchmark file's
    ``executor:`` block less ``use``); the executor's ``run(groups, run_cell, recorder)`` runs each group
    of cells in order (:mod:`mubench_harness.executors` states the contract)."""

    kind_of_spec: ClassVar[str] = "executor"
