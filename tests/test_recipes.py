"""Training recipes per (task, family, scale, source), the benchmark file's ``recipe:`` override, what a
run records, and the MU-Bench authors' unlearning rule (``optimizer: mubench``)."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from mubench_harness.config import ConfigError, parse_structure, validate
from mubench_harness.context import OptimizerRule
from mubench_harness.plugins import load_registry
from mubench_harness.runner import run_benchmark, run_config
from mubench_harness.training import OptimizerConfig
from mubench_harness.training_recipes import benchmark_recipes, mubench_unlearning, training_recipe

pytestmark = pytest.mark.needs_shipped_plugins  # runs the shipped tasks/families/methods

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def reg():
    return load_registry()


def resolve(reg, task, model, scale, source="hub", override=None):
    return training_recipe(reg.get("tasks", task), reg.get("models", model), scale, source, override)


def test_real_scales_get_the_authors_recipes(reg):
    # CLU-UML/MU-Bench experiment/<task>/gen_config.py, read by hand
    bert = resolve(reg, "imdb", "bert", "large")
    assert (bert.lr, bert.epochs, bert.batch_size, bert.optimizer) == (5e-5, 20, 32, "adamw")
    assert "experiment/imdb/gen_config.py" in bert.source
    resnet = resolve(reg, "cifar100", "resnet", "50")
    assert (resnet.lr, resnet.epochs, resnet.batch_size, resnet.weight_decay) == (1e-5, 300, 128, 1e-4)
    vit_b, vit_l = resolve(reg, "cifar100", "vit", "base"), resolve(reg, "cifar100", "vit", "large")
    assert (vit_b.epochs, vit_b.batch_size) == (100, 128) and (vit_l.epochs, vit_l.batch_size) == (100, 64)
    ddi = resolve(reg, "ddi2013", "bert", "pubmedbert-abstract")
    assert (ddi.lr, ddi.epochs) == (5e-5, 20) and "ddi2013/gen_config.py" in ddi.source
    assert resolve(reg, "nlvr2", "vilt", "b32-nlvr2").lr == 1e-5


def test_mini_source_and_tiny_scale_keep_the_tiny_models_recipe(reg):
    own = reg.get("tasks", "imdb").load().recipe
    for source, scale in (("mini", "tiny"), ("hub", "tiny"), ("mini", "base")):
        r = resolve(reg, "imdb", "bert", scale, source)
        assert (r.lr, r.epochs, r.batch_size) == (own.lr, own.epochs, own.batch_size) and "tiny-model" in r.source
    assert resolve(reg, "imdb", "bert", "base").lr != own.lr  # the real scale is not the tiny recipe
    # resolving hands out copies: the table and the class recipe stay as declared
    r = resolve(reg, "imdb", "bert", "base")
    r.lr = 1.0
    assert resolve(reg, "imdb", "bert", "base").lr == 5e-5


def test_every_cell_of_full_yaml_resolves_to_a_cited_recipe(reg, tmp_path):
    from test_benchmark_files import with_local_data

    v = validate(with_local_data(ROOT / "benchmarks" / "full.yaml", tmp_path), registry=reg)
    recipes = benchmark_recipes(v)
    expected = {(t.name, m.name, s) for t in v.bench.tasks for m in t.models for s in m.scales}
    assert set(recipes) == expected
    for key, r in recipes.items():
        assert "tiny-model" not in r.source and r.source, key  # every real cell: a cited real-scale recipe
        if key[0] in ("cifar100", "imdb", "ddi2013", "nlvr2"):  # the tasks the authors' code covers
            assert r.source.startswith("CLU-UML/MU-Bench experiment/"), key
        assert r.lr <= 1e-4, key  # none of the tiny models' 1e-3-scale rates at real scale
    # where the authors publish no recipe: the model's own, cited (a guide, an example, a README)
    cited = {"transformers examples/pytorch/audio-classification", "transformers docs, tasks/video_classification",
             "transformers docs, tasks/summarization", "tatsu-lab/stanford_alpaca", "diffusers examples/text_to_image"}
    for key, r in recipes.items():
        assert r.source.startswith("CLU-UML/MU-Bench experiment/") or any(r.source.startswith(c) for c in cited), key
    # and the run records every one of them, with its source, in its resolved configuration
    recorded = run_config(v)["resolved_args"]["recipes"]
    assert set(recorded) == {"/".join(k) for k in expected} and len(recorded) == 35
    assert recorded["cifar100/vit/large"]["batch_size"] == 64 and recorded["imdb/bert/base"]["epochs"] == 20
    assert all(recorded["/".join(k)]["source"] == r.source for k, r in recipes.items())


def bench_file(tmp_path, model_entry: str, extra: str = "", unlearners="[neggrad]", task="imdb", source="hub"):
    path = tmp_path / "b.yaml"
    path.write_text(f"name: r\nseeds: [0]\ndeletion_ratios: [10]\n"
                    f"tasks: [{{name: {task}, source: {source}, models: [{model_entry}]}}]\n"
                    f"unlearners: {unlearners}\n{extra}")
    return path


def test_recipe_override_in_the_benchmark_file_is_resolved_and_recorded(reg, tmp_path):
    v = validate(bench_file(tmp_path, "{name: bert, scales: [base, large], recipe: {lr: 2.0e-5, epochs: 3}}"), registry=reg)
    recorded = run_config(v)["resolved_args"]["recipes"]
    assert set(recorded) == {"imdb/bert/base", "imdb/bert/large"}
    r = recorded["imdb/bert/large"]
    assert (r["lr"], r["epochs"], r["batch_size"]) == (2e-5, 3, 32)  # batch size kept from the authors' recipe
    assert "gen_config.py" in r["source"] and "overridden in the benchmark file: epochs=3, lr=2e-05" in r["source"]


@pytest.mark.parametrize("entry, message", [
    ("{name: bert, scales: [base], recipe: {lr: -1.0}}", "greater than 0"),
    ("{name: bert, scales: [base], recipe: {learning_rate: 1.0e-5}}", "learning_rate"),
    ("{name: bert, scales: [base], recipe: {optimizer: lion}}", "optimizer"),
])
def test_a_bad_recipe_override_is_a_located_error(tmp_path, entry, message):
    with pytest.raises(ConfigError) as exc:
        parse_structure(bench_file(tmp_path, entry))
    text = str(exc.value)
    assert text.startswith(f"{tmp_path / 'b.yaml'}:4:") and message in text


def test_the_run_trains_the_original_with_the_resolved_recipe(tmp_path, install_plugins):
    """Through the runner on the toy task: a ``recipe: {epochs: 1}`` override trains the original for one
    epoch, and the run records it in its configuration, the original's notes and the originals cache."""
    install_plugins("testkit")
    path = tmp_path / "t.yaml"
    out = tmp_path / "out"

    def run(epochs):
        path.write_text("name: t\nseeds: [0]\ndeletion_ratios: [10]\n"
                        "tasks: [{name: toy_blobs, args: {n_train: 120, n_test: 60}, "
                        f"models: [{{name: toy_mlp, recipe: {{epochs: {epochs}}}}}]}}]\nunlearners: [ascent]\n")
        return run_benchmark(validate(path), out)

    run(1)
    with sqlite3.connect(out / "results.db") as db:
        config = json.loads(db.execute("SELECT config FROM runs").fetchone()[0])
        notes = [json.loads(n) for (n,) in db.execute("SELECT notes FROM cells WHERE kind = 'original'")]
    assert config["resolved_args"]["recipes"]["toy_blobs/toy_mlp/tiny"]["epochs"] == 1
    assert notes[0]["recipe"]["epochs"] == 1 and "overridden" in notes[0]["recipe"]["source"]
    metas = [json.loads(p.read_text()) for p in (out / "cache" / "originals").glob("*.json")]
    assert [m["recipe"]["epochs"] for m in metas] == [1]
    # another recipe is another original (and other cells), not the cached one
    second = run(2)
    assert second.work["train_original"] == 1 and second.ran == 2


def test_mubench_unlearning_rule_per_task_and_method(reg):
    imdb = reg.get("tasks", "imdb")
    # experiment/imdb/gen_config.py: lr 5e-5 over 6 epochs; NegGrad ÷ 5 over 12; Bad-T × 2 over 10
    assert mubench_unlearning(imdb, "scrub") == pytest.approx(
        {"lr": 5e-5, "epochs": 6, "batch_size": 32, "optimizer": "adamw", "weight_decay": 0.0,
         "source": "CLU-UML/MU-Bench experiment/imdb/gen_config.py"})
    # NegGrad: ÷ 5 at 2 % (`if dr == 2.0`), ÷ 10 at every other ratio, 12 epochs
    neg = mubench_unlearning(imdb, "neggrad", ratio=2)
    assert neg["lr"] == pytest.approx(1e-5) and neg["epochs"] == 12 and "neggrad: lr × 0.2" in neg["source"]
    for ratio in (1, 4, 10, None):
        assert mubench_unlearning(imdb, "neggrad", ratio=ratio)["lr"] == pytest.approx(5e-6), ratio
    assert mubench_unlearning(imdb, "scrub", ratio=2)["lr"] == pytest.approx(5e-5)  # no exception for others
    assert mubench_unlearning(imdb, "badt")["lr"] == pytest.approx(1e-4)
    cifar = mubench_unlearning(reg.get("tasks", "cifar100"), "salun")
    assert cifar["lr"] == pytest.approx(1e-4) and cifar["batch_size"] == 128 and cifar["weight_decay"] == 1e-4
    assert mubench_unlearning(reg.get("tasks", "speechcommands"), "neggrad") is None  # no authors' file


def test_mubench_rule_replaces_the_methods_optimiser():
    authors = OptimizerConfig(name="sgd", lr=0.01, momentum=0.9)
    cfg, bs = OptimizerRule("mubench", lr=1e-5, batch_size=128, optimizer="adamw", weight_decay=1e-4, epochs=10).resolve(authors, 256)
    assert (cfg.name, cfg.lr, cfg.weight_decay, bs) == ("adamw", 1e-5, 1e-4, 128)
    assert OptimizerRule("authors").resolve(authors, 256) == (authors, 256)


def test_optimizer_mubench_validates_where_the_authors_give_a_recipe(reg, tmp_path):
    v = validate(bench_file(tmp_path, "{name: bert, scales: [base]}", "optimizer: mubench\n"), registry=reg)
    assert v.bench.optimizer.rule == "mubench"
    with pytest.raises(ConfigError) as exc:
        validate(bench_file(tmp_path, "{name: hubert, scales: [base]}", "optimizer: mubench\n", task="speechcommands"),
                 registry=reg)
    assert ":6:12: optimizer: mubench: no MU-Bench unlearning recipe for task(s) speechcommands" in str(exc.value)
    assert "imdb" in str(exc.value)  # names the tasks that have one


def test_a_run_under_optimizer_mubench_uses_the_authors_lr_epochs_and_batch(tmp_path):
    """IMDB's mini data and tiny BERT, NegGrad at Df 2 %: the authors' rule for that ratio (lr 5e-5 ÷ 5,
    12 epochs, AdamW, batch 32; ÷ 10 at the other ratios, above) replaces NegGrad's own recipe, and the
    cell records it."""
    path = tmp_path / "m.yaml"
    path.write_text("name: m\nseeds: [0]\ndeletion_ratios: [2]\n"
                    "tasks: [{name: imdb, source: mini, args: {mini_train: 50, mini_test: 20}, "
                    "models: [{name: bert, recipe: {epochs: 1}}]}]\nunlearners: [neggrad]\noptimizer: mubench\n"
                    "budget: {max_fraction_of_retrain: 1000.0}\n")  # a one-epoch original: no cut from it
    out = tmp_path / "out"
    assert run_benchmark(validate(path), out).exit_code == 0
    with sqlite3.connect(out / "results.db") as db:
        optimizer, notes, cut = db.execute("SELECT optimizer, notes, cut FROM cells WHERE kind = 'unlearned'").fetchone()
    optimizer, notes = json.loads(optimizer), json.loads(notes)
    assert optimizer["rule"] == "mubench" and optimizer["mubench"] == {"lr": pytest.approx(1e-5), "batch_size": 32, "epochs": 12}
    assert optimizer["used"]["name"] == "adamw" and optimizer["used"]["lr"] == pytest.approx(1e-5)
    assert cut == 0 and notes["epochs"] == 12 and notes["optimizer_rule"] == "mubench"
