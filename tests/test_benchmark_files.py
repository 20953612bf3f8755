"""The shipped benchmark files are valid: structure always, names against the installed plugins."""
from __future__ import annotations

from pathlib import Path

import pytest

from mubench_harness.config import ConfigError, parse_structure, validate
from mubench_harness.plugins import load_registry
from mubench_harness.runner import expand_grid

ROOT = Path(__file__).resolve().parents[1]
# the paper's analyses (benchmarks/analyses/) are validated like the main files, full forms included
FILES = sorted((ROOT / "benchmarks").glob("*.yaml")) + sorted((ROOT / "benchmarks" / "analyses").glob("*.yaml"))


def test_there_are_benchmark_files():
    assert {"toy.yaml", "mini.yaml"} <= {f.name for f in FILES}
    # every analysis has a mini form (offline, CPU) and a full form (hub sources)
    analyses = {f.name for f in FILES if f.parent.name == "analyses"}
    assert {"capacity-mini.yaml", "capacity-full.yaml"} <= analyses
    assert all(f"{n.rsplit('-', 1)[0]}-full.yaml" in analyses for n in analyses)


def with_local_data(path: Path, tmp_path: Path) -> Path:
    """A copy of the benchmark file beside stand-ins for the local data it names (full.yaml reads BLURB's DDI,
    NLVR2's images, UCF101 (and -DS), FActScore and Tiny ImageNet's words file from disk): a name with a
    suffix is a file, else a folder."""
    bench, _ = parse_structure(path)
    for t in bench.tasks:
        for key in ("path", "ood_path", "words_path", "image_root"):
            value = t.args.get(key)
            if value and not Path(value).is_absolute() and not (path.parent / value).exists():
                stand_in = tmp_path / value
                if stand_in.suffix:
                    stand_in.parent.mkdir(parents=True, exist_ok=True)
                    stand_in.touch()
                else:
                    stand_in.mkdir(parents=True, exist_ok=True)
    ds = bench.distributed.config  # a DeepSpeed JSON beside the file travels with the copy, as it is
    if ds and not Path(ds).is_absolute() and (path.parent / ds).is_file():
        (tmp_path / ds).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / ds).write_text((path.parent / ds).read_text())
    copy = tmp_path / path.name
    copy.write_text(path.read_text())
    return copy


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_benchmark_file_is_valid(path, tmp_path):
    bench, _ = parse_structure(path)  # structure: always
    reg = load_registry()
    missing = [f"{kind[:-1]} {name}" for kind, names in (
        ("tasks", [t.name for t in bench.tasks]), ("models", [m.name for t in bench.tasks for m in t.models]),
        ("unlearners", [u.name for u in bench.unlearners]), ("metrics", [m.name for m in bench.metrics or []])) for name in names
        if name not in reg.components[kind]]
    if missing:  # e.g. the tox `core` env, where no plugin is installed
        pytest.skip(f"plugins not installed here: {', '.join(missing)}")
    try:
        validate(with_local_data(path, tmp_path), registry=reg)
    except ConfigError as exc:
        pytest.fail(str(exc))


def shipped(reg, kind: str) -> set[str]:
    """Components of ``kind`` provided by this repository's plugins (not the core's toy, not test plugins)."""
    return {name for name in reg.components[kind] if (ROOT / "plugins" / reg.provider(kind, name).distribution).is_dir()}


def test_full_benchmark_is_the_papers_protocol(tmp_path):
    """full.yaml: every shipped task on its real data, every shipped family at every real scale, every
    shipped method, five seeds, Df 1..10 %; scales taken as given have no retraining."""
    path = next(f for f in FILES if f.name == "full.yaml")
    reg = load_registry()
    bench, _ = parse_structure(path)
    if any(t.name not in reg.components["tasks"] for t in bench.tasks):
        pytest.skip("task plugins not installed here")
    v = validate(with_local_data(path, tmp_path), registry=reg)
    assert {t.name for t in bench.tasks} == shipped(reg, "tasks") and {t.source for t in bench.tasks} == {"hub"}
    listed = {(m.name, s) for t in bench.tasks for m in t.models for s in m.scales}
    real = {(name, s) for name in shipped(reg, "models") for s in reg.get("models", name).scales if s != "tiny"}
    extra = {("convnext", "B")}  # the family offers ConvNeXt-B too; the paper names one ConvNeXt
    assert real - listed == extra, "every real scale of every shipped family the paper uses is benchmarked"
    assert ("bert", "base") in listed and ("bert", "biobert") in listed and len(listed) == len(real) - len(extra) == 35
    # compose builds new methods from its arguments: it is no method of the paper's by itself
    assert {u.name for u in bench.unlearners} == shipped(reg, "unlearners") - {"compose"} and v.skipped == []
    assert bench.seeds == [0, 1, 2, 3, 4] and bench.deletion_ratios == list(range(1, 11))
    assert bench.optimizer.rule == "paper" and bench.optimizer.paper_batch_size == 32
    given = {(m, s) for _, m, s in v.given}
    assert given == {("vilt", "b32-nlvr2"), ("stablediffusion", "v1-4"), ("llama", "alpaca-7b"), ("llama", "alpaca-13b"),
                     ("llama", "vicuna-7b"), ("llama", "vicuna-13b")}
    grid = expand_grid(v)
    assert not any(c.kind == "retrain" and (c.model, c.scale) in given for c in grid)
    n_methods = len(bench.unlearners)  # retrain included: + the original's row, - retrain where given
    assert len(grid) == 5 * 10 * sum(n_methods + 1 - ((m, s) in given) for m, s in listed)


def test_generative_benchmark_runs_every_method_on_every_generative_task():
    """Issue: every method plugin applies to SAMSum, BioFact and Tiny ImageNet; none is left out."""
    path = next(f for f in FILES if f.name == "gen.yaml")
    reg = load_registry()
    bench, _ = parse_structure(path)
    if any(t.name not in reg.components["tasks"] for t in bench.tasks):
        pytest.skip("generative task plugins not installed here")
    v = validate(path, registry=reg)
    assert {t.name for t in bench.tasks} == {"samsum", "biofact", "tinyimagenet"}
    methods = shipped(reg, "unlearners")
    assert "neggrad" in methods and {u.name for u in bench.unlearners} == methods, "gen.yaml lists every shipped method"
    assert v.skipped == [], f"pairs left out of the grid: {v.skipped}"


# -- local downloads: named by validate, required where the data is read ------------------------------------

#: what full.yaml reads from disk (argument value as written, task): no hub copy of the size the paper used
FULL_DOWNLOADS = {("data/CIFAR-100-C", "cifar100"), ("data/blurb/ddi", "ddi2013"), ("data/nlvr2", "nlvr2"),
                  ("data/UCF101", "ucf101"), ("data/UCF101-DS", "ucf101"),
                  ("data/factscore/ChatGPT.jsonl", "biofact"), ("data/tiny-imagenet-200/words.txt", "tinyimagenet")}


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.mark.needs_shipped_plugins
def test_validate_full_yaml_passes_on_a_clean_checkout_and_names_its_downloads(capsys):
    from mubench_harness.cli import main

    path = ROOT / "benchmarks" / "full.yaml"
    if (path.parent / "data").exists():
        pytest.skip("benchmarks/data is here: this checkout is not clean")
    assert main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"{path}: ok: 20700 cells")
    named = [line for line in err.splitlines() if line.startswith("needs local download: ")]
    assert {tuple(line.split(" ")[3:6:2]) for line in named} == FULL_DOWNLOADS and len(named) == 7
    ddi = next(line for line in named if " for ddi2013 " in line)
    assert "microsoft.github.io/BLURB" in ddi and "(path; from " in ddi  # the argument, and where it comes from


@pytest.mark.needs_shipped_plugins
def test_validate_data_makes_the_first_missing_download_a_located_error(capsys, tmp_path):
    from mubench_harness.cli import main

    path = ROOT / "benchmarks" / "full.yaml"
    if (path.parent / "data").exists():
        pytest.skip("benchmarks/data is here: this checkout is not clean")
    assert main(["validate", "--data", str(path)]) == 2
    out, err = capsys.readouterr()
    line = line_of(path, "ood_path: data/CIFAR-100-C")
    assert out == "" and err.startswith(f"{path}:{line}:")
    assert "cifar100: argument ood_path: local download 'data/CIFAR-100-C' is not there (get it from zenodo.org" in err
    # with every download there (stand-ins), --data passes and names none
    assert main(["validate", "--data", str(with_local_data(path, tmp_path))]) == 0
    assert "needs local download" not in capsys.readouterr().err


@pytest.mark.needs_shipped_plugins
def test_run_stops_at_a_missing_download_located_and_creates_nothing(tmp_path, capsys):
    from mubench_harness.cli import main

    path = tmp_path / "b.yaml"
    path.write_text("name: d\noutput_dir: out\nseeds: [0]\ndeletion_ratios: [10]\ntasks:\n"
                    "  - name: ucf101\n    source: hub\n    args: {num_classes: 2,\n           path: data/UCF101}\n"
                    "    models: [{name: videomae, scales: [tiny]}]\nunlearners: [finetune]\n")
    assert main(["validate", str(path)]) == 0  # valid: the download is named, not required
    assert "needs local download: data/UCF101 for ucf101" in capsys.readouterr().err
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{path}:9:18: ucf101: argument path: local download 'data/UCF101' is not there")
    assert len(err.splitlines()) == 1 and not (tmp_path / "out").exists()


def test_local_download_is_no_validation_error_but_local_path_stays_strict(tmp_path):
    from pydantic import BaseModel, ValidationError

    from mubench_harness.specs import LocalPath, downloads_of, local_download

    class Args(BaseModel):
        data: local_download("example.org/data.zip") | None = None
        words: LocalPath | None = None

    a = Args.model_validate({"data": "data/x"}, context={"base_dir": tmp_path})
    assert a.data == str(tmp_path / "data" / "x")  # absolute, from the benchmark file's folder, as a LocalPath
    assert [(f, p, m.origin) for f, p, m in downloads_of(a)] == [("data", a.data, "example.org/data.zip")]
    assert downloads_of(Args()) == []
    with pytest.raises(ValidationError, match="does not exist"):
        Args.model_validate({"words": "data/words.txt"}, context={"base_dir": tmp_path})
