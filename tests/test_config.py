"""Benchmark files: every bad input gives one located line; good files parse to the documented defaults."""
from __future__ import annotations

import textwrap

import pytest

from mubench_harness.config import Benchmark, ConfigError, load_located, parse_structure, validate

GOOD = """\
name: t
seeds: [0, 1]
deletion_ratios: [5, 10]
tasks:
  - name: toy_blobs
    args: {n_train: 100}
    models:
      - name: toy_mlp
        scales: [tiny]
unlearners:
  - name: ascent
    args: {lr: 0.01}
"""


def write(tmp_path, text: str | bytes, name="bench.yaml"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else textwrap.dedent(text).encode())
    return path


def error_of(path, **kw) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        validate(path, **kw)
    msg = str(info.value)
    assert msg.startswith(f"{path}:") and "\n" not in msg, msg
    return info.value


@pytest.fixture
def registry(install_plugins):
    from mubench_harness.plugins import load_registry

    install_plugins("testkit")
    return load_registry()


def test_good_file_and_defaults(tmp_path, registry):
    v = validate(write(tmp_path, GOOD), registry=registry)
    b = v.bench
    assert b.split_seed == 42 and b.optimizer.rule == "authors" and b.budget.max_fraction_of_retrain == 1.0
    assert b.device == "cpu" and b.distributed.backend == "none"
    assert v.task_args["toy_blobs"].n_train == 100 and v.task_args["toy_blobs"].num_classes == 4  # own defaults
    assert v.unlearner_args["ascent"].lr == 0.01
    # default: every installed metric but the opt-in ones (the robustness attacks cost extra passes)
    assert v.metric_names == [s.name for s in registry.specs("metrics") if not s.opt_in]
    assert {"quantization", "relearning"} <= {s.name for s in registry.specs("metrics") if s.opt_in}
    assert v.output_dir.as_posix() == "runs/t"


def test_unquoted_no_is_no():
    b = Benchmark.model_validate({"name": "x", "tasks": [{"name": "a", "models": ["m"]}], "unlearners": ["u"], "mixed_precision": False})
    assert b.mixed_precision == "no"


def test_defaults_of_the_schema():
    b = Benchmark.model_validate({"name": "x", "tasks": [{"name": "a", "models": ["m"]}], "unlearners": ["u"]})
    assert b.seeds == [0, 1, 2, 3, 4] and b.deletion_ratios == list(range(1, 11))
    assert b.tasks[0].models[0].scales == ["tiny"] and b.unlearners[0].name == "u"


STRUCTURE_ERRORS = [
    # (file text, expected line, expected col, words in the message)
    ("name: [unclosed\n", 2, 1, "invalid YAML"),
    ("- a\n- b\n", 1, 1, "expected a mapping"),
    ("just a string\n", 1, 1, "expected a mapping"),
    ("", 1, 1, "empty"),
    ("name: !!python/object/apply:os.system ['true']\n", 1, 7, "python tags are not allowed"),
    ("name: x\nseeds: !custom [1]\n", 2, 8, "unsupported tag"),
    ("name: x\ntasks: []\nunlearners: [a]\n", 2, 8, "at least 1 item"),
    ("name: x\ntasks:\n  - name: t\n    models: []\nunlearners: [a]\n", 4, 13, "at least 1 item"),
    ("name: x\nunlearners: [a]\n", 1, 1, "missing required key 'tasks'"),
    ("name: x\ntasks:\n  - name: t\n    modles: [m]\nunlearners: [a]\n", 4, 5, "unknown key 'modles' in tasks.0"),
    ("name: x\nseeds: [0, '1']\ntasks: [{name: t, models: [m]}]\nunlearners: [a]\n", 2, 12, "valid integer"),
    ("name: x\ndeletion_ratios: [1, 11]\ntasks: [{name: t, models: [m]}]\nunlearners: [a]\n", 2, 22, "less than or equal to 10"),
    ("name: x\ndeletion_ratios: [0]\ntasks: [{name: t, models: [m]}]\nunlearners: [a]\n", 2, 19, "greater than or equal to 1"),
    ("name: x\ndeletion_ratios: [2.5]\ntasks: [{name: t, models: [m]}]\nunlearners: [a]\n", 2, 19, "valid integer"),
    ("name: x\nseeds: [1, 1]\ntasks: [{name: t, models: [m]}]\nunlearners: [a]\n", 2, 8, "listed twice"),
    ("name: x\ntasks: [{name: t, models: [m]}]\nunlearners: [a]\noptimizer: fancy\n", 4, 12, "'paper' or 'mubench'"),
    ("name: x\ntasks: [{name: t, models: [m]}]\nunlearners: [a]\ndistributed: {zero_stage: 3}\n", 4, 14, "needs backend: deepspeed"),
    ("name: x\ntasks: [{name: t, models: [m]}]\nunlearners: [a]\ndistributed: {backend: deepspeed}\n", 4, 14,
     "backend deepspeed needs zero_stage"),
    ("name: x\ntasks: [{name: t, source: web, models: [m]}]\nunlearners: [a]\n", 2, 27, "'mini' or 'hub'"),
]


@pytest.mark.parametrize("text,line,col,words", STRUCTURE_ERRORS)
def test_structure_errors_are_located(tmp_path, text, line, col, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        parse_structure(path)
    err = info.value
    assert (err.line, err.col) == (line, col), str(err)
    assert words in err.message, str(err)
    assert str(err) == f"{path}:{line}:{col}: {err.message}"


def test_binary_junk(tmp_path):
    err = error_of(write(tmp_path, b"name: x\n\x89PNG\r\n\x1a\n\x00\xff\xfe"))
    assert (err.line, err.col) == (2, 1) and "UTF-8" in err.message


def test_control_characters(tmp_path):
    err = error_of(write(tmp_path, b"name: x\x07y\n"))
    assert "invalid YAML" in err.message and err.line == 1


def test_missing_file(tmp_path):
    err = error_of(tmp_path / "nope.yaml")
    assert "cannot read" in err.message


def test_python_tag_never_constructed(tmp_path):
    marker = tmp_path / "pwned"
    path = write(tmp_path, f"name: !!python/object/apply:os.system ['touch {marker}']\n")
    error_of(path)
    assert not marker.exists()


def test_locations_are_kept_for_every_node(tmp_path):
    doc = load_located(write(tmp_path, GOOD))
    assert doc.where(("tasks", 0, "models", 0, "scales")) == (9, 9)
    assert doc.where(("tasks", 0, "models", 0, "scales", "<value>")) == (9, 17)
    assert doc.where(("unlearners", 0, "args", "lr", "<value>")) == (12, 16)


PLUGIN_ERRORS = [
    # (replace in GOOD, by, line, col, words)
    ("name: toy_blobs", "name: toy_blob", 5, 11, "unknown task 'toy_blob'; did you mean 'toy_blobs'?"),
    ("name: toy_mlp", "name: toy_mpl", 8, 15, "did you mean 'toy_mlp'"),
    ("scales: [tiny]", "scales: [tiny, huge]", 9, 24, "no scale 'huge'"),
    ("name: ascent", "name: acsent", 11, 11, "did you mean 'ascent'"),
    ("args: {lr: 0.01}", "args: {lr: -1}", 12, 16, "ascent: argument lr: Input should be greater than 0"),
    ("args: {lr: 0.01}", "args: {rate: 1}", 12, 12, "ascent: unknown argument 'rate'"),
    ("args: {n_train: 100}", "args: {num_classes: 1}", 6, 25, "toy_blobs: argument num_classes"),
    ("    args: {n_train: 100}\n", "    source: hub\n", 6, 13, "has no 'hub' source"),
    ("    args: {n_train: 100}\n", "    path: data\n", 6, 11, "takes no local dataset path"),
    ("        scales: [tiny]\n", "        checkpoint: ./missing.safetensors\n", 9, 21, "does not exist"),
    ("name: ascent", "name: genonly", 11, 5, "does not apply to any task"),
]


@pytest.mark.parametrize("old,new,line,col,words", PLUGIN_ERRORS)
def test_plugin_errors_are_located(tmp_path, registry, old, new, line, col, words):
    assert old in GOOD
    err = error_of(write(tmp_path, GOOD.replace(old, new)), registry=registry)
    assert (err.line, err.col) == (line, col), str(err)
    assert words in err.message, str(err)


def test_unknown_metric(tmp_path, registry):
    err = error_of(write(tmp_path, GOOD + "metrics: [performance, tim]\n"), registry=registry)
    assert (err.line, err.col) == (13, 24) and "did you mean 'time'" in err.message


def test_same_method_twice_needs_labels(tmp_path, registry):
    text = GOOD + "  - name: ascent\n    args: {lr: 0.1}\n"
    err = error_of(write(tmp_path, text), registry=registry)
    assert err.line == 13 and "give one a distinct 'label'" in err.message
    v = validate(write(tmp_path, text + "    label: ascent-fast\n"), registry=registry)
    assert set(v.unlearner_args) == {"ascent", "ascent-fast"} and v.unlearner_args["ascent-fast"].lr == 0.1


def test_model_that_does_not_serve_the_task(tmp_path, registry):
    from mubench_harness.plugins import load_registry
    from mubench_harness.specs import ModelSpec, TaskSpec

    class Extra:
        @staticmethod
        def mubench_models():
            yield ModelSpec(name="textnet", factory="x:y", summary="s", scales={"tiny": None}, serves=("text",))

        @staticmethod
        def mubench_tasks():
            yield TaskSpec(name="gen_task", factory="x:y", summary="s", kind="seq2seq", modality="text")

    from mubench_harness import hookimpl

    Extra.mubench_models = hookimpl(Extra.mubench_models)
    Extra.mubench_tasks = hookimpl(Extra.mubench_tasks)
    reg = load_registry(extra_plugins=(Extra,))
    err = error_of(write(tmp_path, GOOD.replace("name: toy_mlp", "name: textnet")), registry=reg)
    assert (err.line, err.col) == (8, 9) and "does not serve task 'toy_blobs'" in err.message
    # a method for generation only is left out of the grid where it does not apply (noted), not an error
    text = GOOD.replace("  - name: toy_blobs", "  - name: gen_task\n    models: [textnet]\n  - name: toy_blobs")
    v = validate(write(tmp_path, text + "  - name: genonly\n"), registry=reg)
    assert v.skipped == [("toy_blobs", "genonly")]  # ascent applies to every kind


def test_local_path_and_hub_id_or_path_args(tmp_path):
    """Args that name files resolve from the benchmark file's folder (the validation context)."""
    from pydantic import BaseModel, ValidationError

    from mubench_harness.specs import HubIdOrPath, LocalPath

    class Args(BaseModel):
        data: LocalPath | None = None
        model: HubIdOrPath | None = None

    ctx = {"base_dir": tmp_path}
    (tmp_path / "clip").mkdir()
    (tmp_path / "rows.json").write_text("{}")
    a = Args.model_validate({"data": "rows.json", "model": "clip"}, context=ctx)
    assert a.data == str(tmp_path / "rows.json") and a.model == str(tmp_path / "clip")
    assert Args.model_validate({"model": "openai/clip-vit-large-patch14"}, context=ctx).model == "openai/clip-vit-large-patch14"
    for bad in ({"data": "missing.json"}, {"model": "./missing"}):
        with pytest.raises(ValidationError, match="does not exist \\(relative to"):
            Args.model_validate(bad, context=ctx)
