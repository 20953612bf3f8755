"""The benchmark's grid: one :class:`Cell` per (task, model, scale, seed, ratio, method), their run
order (each group's retraining first, then the original's reference row, then the methods), and the
settings hash that makes a changed setting a new cell. Torch-free: ``mubench plan`` and executors
expand grids without loading a model."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .config import Validated, digest
from .store import CellRecord

ORIGINAL = "original"  # the unlearner/label of the original model's reference rows


@dataclass(frozen=True)
class Cell:
    kind: str  # 'unlearned' | 'original' | 'retrain'
    task: str
    model: str
    scale: str
    unlearner: str
    label: str
    ratio: int
    seed: int
    #: hash of every setting that defines the cell's result: changing a method's args is a new cell
    settings: str

    @property
    def key(self) -> str:
        return f"{self.task}/{self.model}/{self.scale}/{self.label}/r{self.ratio}/s{self.seed}/{self.settings}"

    @property
    def group(self) -> tuple[str, str, str, int, int]:
        return (self.task, self.model, self.scale, self.ratio, self.seed)

    def record(self, status: str, **facts: Any) -> CellRecord:
        return CellRecord(key=self.key, kind=self.kind, task=self.task, model=self.model, scale=self.scale,
                          unlearner=self.unlearner, label=self.label, ratio=self.ratio, seed=self.seed,
                          status=status, **facts)


@dataclass
class CellOutcome:
    """What ``mubench_run_cell`` returns; the runner commits ``record`` in one transaction."""

    record: CellRecord
    #: what a worker process's runtime computed for this cell (``Runtime.work`` counts), for the driver's
    #: summary; empty where the cell ran in the driver's own runtime
    work: dict[str, int] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return self.record.status

    @classmethod
    def lost(cls, cell: Cell, why: str | None = None) -> CellOutcome:
        """A ``failed`` outcome the driver makes for ``cell`` when its worker was lost: ``why``, or the
        traceback being handled."""
        import traceback

        from .store import now

        return cls(cell.record("failed", started=now(), finished=now(), error=why or traceback.format_exc()))


def task_settings(v: Validated, t) -> dict[str, Any]:
    from .splits import file_settings

    settings = {"task": t.name, "source": t.source, "args": v.task_args[t.name].model_dump(mode="json"),
                "split_seed": v.bench.split_seed}
    if t.splits is not None and t.splits.from_ == "file":  # Df from the authors' files (keys without it unchanged)
        settings["splits"] = file_settings(t.splits, v.base_dir)
    return settings


def expand_grid(v: Validated) -> list[Cell]:
    """Every cell of the benchmark, in run order."""
    bench = v.bench
    retrain_specs = {u.display: v.registry.get("unlearners", u.name).is_retrain for u in bench.unlearners}
    skipped, given = set(v.skipped), set(v.given)
    rule = bench.optimizer.model_dump(mode="json")
    cells: list[Cell] = []
    for t in bench.tasks:
        for m in t.models:
            for scale in m.scales:
                base = {**task_settings(v, t), "model": m.name, "scale": scale, "checkpoint": m.checkpoint}
                if m.recipe is not None:  # an overridden recipe makes other cells (digests without it stay as they were)
                    base["recipe"] = m.recipe.model_dump(mode="json", exclude_none=True)
                for seed in bench.seeds:
                    for ratio in bench.deletion_ratios:
                        group = [u for u in bench.unlearners if (t.name, u.display) not in skipped
                                 and not ((t.name, m.name, scale) in given and retrain_specs[u.display])]
                        group.sort(key=lambda u: not retrain_specs[u.display])  # retrain first (stable)
                        n_retrain = sum(retrain_specs[u.display] for u in group)
                        for i, u in enumerate(group):
                            if i == n_retrain:
                                cells.append(Cell("original", t.name, m.name, scale, ORIGINAL, ORIGINAL, ratio, seed, digest(base)))
                            # the task's settings stay in the key (under "args"): a changed decoding or data
                            # setting makes every cell of the task new, not only its original's row
                            settings = {**base, "unlearner": u.name,
                                        "unlearner_args": v.unlearner_args[u.display].model_dump(mode="json"),
                                        "optimizer": rule, "budget": bench.budget.model_dump(mode="json")}
                            kind = "retrain" if retrain_specs[u.display] else "unlearned"
                            cells.append(Cell(kind, t.name, m.name, scale, u.name, u.display, ratio, seed, digest(settings)))
                        if n_retrain == len(group):
                            cells.append(Cell("original", t.name, m.name, scale, ORIGINAL, ORIGINAL, ratio, seed, digest(base)))
    return cells
