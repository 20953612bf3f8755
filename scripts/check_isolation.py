"""Fail unless exactly the expected mubench plugin distributions are importable here.

    python scripts/check_isolation.py NAME   # a plugin's tox env: only mubench-plugin-NAME
    python scripts/check_isolation.py        # the core env: no plugin at all

Each plugin must pass its tests with no other mubench plugin installed (a hidden dependency on
another plugin would otherwise go unnoticed).
"""
from __future__ import annotations

import sys
from importlib import metadata


def mubench_distributions() -> set[str]:
    return {dist.metadata["Name"] for dist in metadata.distributions()
            if any(ep.group == "mubench" for ep in dist.entry_points)}


def main(argv: list[str]) -> int:
    expected = {f"mubench-plugin-{argv[0]}"} if argv else set()
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
