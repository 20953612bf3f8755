"""``mubench plan``: recipes by the run's own resolution, sizes, cells and a compute estimate, with no
weights and no hub data read."""
from __future__ import annotations

from pathlib import Path

import pytest

from mubench_harness.cli import main
from mubench_harness.config import validate
from mubench_harness.plugins import load_registry
from mubench_harness.runner import expand_grid
from mubench_harness.training_recipes import training_recipe

pytestmark = pytest.mark.needs_shipped_plugins  # runs the shipped tasks/families/methods

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_weights(monkeypatch):
    """Every way of reading weights or hub data fails the test."""
    import datasets
    import huggingface_hub
    import safetensors.torch
    import transformers

    def refuse(*a, **k):
        raise AssertionError("plan read weights or hub data")

    for owner, name in ((transformers.PreTrainedModel, "from_pretrained"), (safetensors.torch, "load_file"),
                        (safetensors.torch, "load_model"), (huggingface_hub, "hf_hub_download"),
                        (huggingface_hub, "snapshot_download"), (datasets, "load_dataset")):
        monkeypatch.setattr(owner, name, refuse)


def test_full_benchmark_plan_prints_every_task_with_the_runs_recipe(capsys, no_weights):
    assert main(["plan", str(ROOT / "benchmarks" / "full.yaml"), "--tflops", "100", "--mfu", "0.5"]) == 0
    out = capsys.readouterr().out
    reg = load_registry()
    for task in ("cifar100", "imdb", "ddi2013", "nlvr2", "speechcommands", "ucf101", "samsum", "biofact", "tinyimagenet"):
        assert any(line.startswith(task) for line in out.splitlines()), task
    # the lr printed is the one the run's recipe resolution gives IMDB × BERT-base (the authors' 5e-5)
    recipe = training_recipe(reg.get("tasks", "imdb"), reg.get("models", "bert"), "base", "hub")
    assert recipe.lr == 5e-5
    row = next(line for line in out.splitlines() if line.startswith("imdb") and "bert:base" in line)
    assert f"lr {recipe.lr:g} bs {recipe.batch_size} × {recipe.epochs} ep" in row
    assert "25,000" in row and "110.0M (model card)" in row
    assert "GPU-hours at 100 TFLOP/s peak × 0.5 utilisation" in out and "6 · params" in out


def test_plan_cells_and_flops_by_hand(tmp_path, capsys, no_weights):
    f = tmp_path / "toy.yaml"
    f.write_text("name: t\nseeds: [0]\ndeletion_ratios: [10]\ntasks:\n  - name: toy_blobs\n    models: [toy_mlp]\n"
                 "unlearners: [retrain]\n")
    from mubench_harness.config import parse_structure
    from mubench_harness.plan import gpu_hours, plan

    bench, _ = parse_structure(f)
    (row,) = plan(bench, load_registry(), tmp_path)
    params = (8 * 64 + 64) + (64 * 64 + 64) + (64 * 4 + 4)  # the toy MLP, counted on the meta device
    assert row.parameters == params and row.parameters_from == "meta-device build"
    assert (row.train, row.test, row.tokens) == (600, 600, 1)
    assert row.cells == len(expand_grid(validate(f))) == 2  # retrain + the original's row
    # original 40 epochs over 600, retrain 40 epochs over 540, two cells evaluated on 600 + 60 + 540
    assert row.flops == pytest.approx(6 * params * 600 * 40 + 6 * params * 540 * 40 + 2 * 2 * params * 1200)
    assert gpu_hours(3.6e15, 1.0, 1.0) == pytest.approx(1.0)


def test_plan_cell_count_matches_the_grid(tmp_path, no_weights):
    from mubench_harness.config import parse_structure
    from mubench_harness.plan import plan

    f = ROOT / "benchmarks" / "toy.yaml"
    bench, _ = parse_structure(f)
    assert sum(r.cells for r in plan(bench, load_registry(), f.parent)) == len(expand_grid(validate(f)))


def test_bad_throughput_is_bad_input(capsys):
    assert main(["plan", str(ROOT / "benchmarks" / "toy.yaml"), "--mfu", "1.5"]) == 2
    assert "--mfu in (0, 1]" in capsys.readouterr().err


def test_an_lr_search_adds_one_budget_sized_run_per_candidate_and_method(tmp_path, no_weights):
    from mubench_harness.config import parse_structure
    from mubench_harness.plan import plan

    text = "name: t\nseeds: [0]\ndeletion_ratios: [10]\ntasks:\n  - name: toy_blobs\n    models: [toy_mlp]\n" \
           "unlearners: [retrain, neggrad]\noptimizer: {rule: paper%s}\n"
    flops = []
    for search in ("", ", lr_search: [1.0e-4, 1.0e-3, 1.0e-2]"):
        f = tmp_path / "p.yaml"
        f.write_text(text % search)
        (row,) = plan(parse_structure(f)[0], load_registry(), tmp_path)
        flops.append(row.flops)
    params = (8 * 64 + 64) + (64 * 64 + 64) + (64 * 4 + 4)
    assert flops[1] - flops[0] == pytest.approx(3 * 6 * params * 540 * 40)  # 3 candidates × neggrad's budget


def test_offline_scale_that_reads_its_task_while_building(tmp_path, no_weights):
    """BioFact's tiny LLaMA fits a tokenizer on the task's texts (its load draws with torch) while building:
    only its parameters go to the meta device."""
    from mubench_harness.config import parse_structure
    from mubench_harness.plan import plan

    f = tmp_path / "b.yaml"
    f.write_text("name: t\nseeds: [0]\ndeletion_ratios: [10]\ntasks:\n  - name: biofact\n    models: [llama]\n"
                 "unlearners: [npo]\n")
    (row,) = plan(parse_structure(f)[0], load_registry(), tmp_path)
    reg = load_registry()
    family = reg.get("models", "llama")
    task_spec = reg.get("tasks", "biofact")
    task = task_spec.load()(task_spec.args())
    task.load("mini")
    real = family.load()(family).build(task, "tiny", init="random", seed=0).model
    assert row.parameters == sum(p.numel() for p in real.parameters()) and row.parameters_from == "meta-device build"
