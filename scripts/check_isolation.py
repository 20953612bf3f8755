"""Fail unless exactly the expected mubench plugin distributions are importable here.

    python scripts/check_isolation.py NAME             # a plugin's env: mubench-plugin-NAME + declared companions
    python scripts/check_isolation.py                  # the core env: no plugin at all

Each plugin must pass its tests with no other mubench plugin installed than the ones its `test` extra
declares (toxfile.py installs them; a model family is tested on a task's batches, so it names that task plugin): a hidden
dependency on another plugin would otherwise go unnoticed.
"""
from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"


def companions(name: str) -> list[str]:
    """mubench plugin distributions named by ``plugins/mubench-plugin-NAME``'s ``test`` extra."""
    project = tomllib.loads((PLUGINS / f"mubench-plugin-{name}" / "pyproject.toml").read_text()).get("project", {})
    deps = project.get("optional-dependencies", {}).get("test", [])
    names = (re.split(r"[<>=!~;\[ ]", d, maxsplit=1)[0].strip() for d in deps)
    return sorted(n for n in names if n.startswith("mubench-plugin-"))


def mubench_distributions() -> set[str]:
    return {dist.metadata["Name"] for dist in metadata.distributions()
            if any(ep.group == "mubench" for ep in dist.entry_points)}


def main(argv: list[str]) -> int:
    expected = {f"mubench-plugin-{argv[0]}", *companions(argv[0])} if argv else set()
    found = mubench_distributions()
    if found != expected:
        print(f"isolation check failed: expected mubench plugins {sorted(expected) or 'none'}, found {sorted(found) or 'none'}",
              file=sys.stderr)
        return 1
    try:
        metadata.version("mubench-harness")
    except metadata.PackageNotFoundError:
        print("isolation check failed: mubench-harness is not installed in this env", file=sys.stderr)
        return 1
    print(f"isolation ok: {sorted(found) or 'core only'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
