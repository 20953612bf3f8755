"""The README says what the code does: its command table, its options, its hooks and its example
benchmark file are checked against the code, so the documentation cannot drift from it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from mubench_harness import cli, hookspecs
from mubench_harness.config import Benchmark, parse_structure

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end > 0 else None]


def _subcommands() -> dict[str, object]:
    parser = cli.parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return dict(action.choices)


def test_every_subcommand_is_in_the_readme_table_and_no_other():
    table = _section("The command line")
    documented = set(re.findall(r"^\| `mubench ([a-z-]+)", table, flags=re.M))
    assert documented == set(_subcommands())


@pytest.mark.parametrize("row", re.findall(r"^\| `(mubench [^`]+)`", _section("The command line"), flags=re.M))
def test_every_documented_option_exists(row):
    name = row.split()[1]
    known = {opt for a in _subcommands()[name]._actions for opt in a.option_strings}
    for option in re.findall(r"--[a-z][a-z-]*", row):
        assert option in known, f"README documents {option} for `mubench {name}`"


def test_every_hook_is_documented():
    hooks = {name for name in dir(hookspecs) if name.startswith("mubench_")}
    assert hooks and all(f"`{hook}" in README for hook in hooks), "README 'Writing a plugin' names every hook"


def test_the_example_benchmark_file_is_valid(tmp_path):
    block = _section("Benchmark files").split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.yaml"
    path.write_text(block)
    bench, _ = parse_structure(path)  # every key of the example exists, every value has the right type
    documented = set(re.findall(r"^([a-z_]+):", block, flags=re.M))
    assert documented == set(Benchmark.model_fields), "the example shows every top-level setting"
