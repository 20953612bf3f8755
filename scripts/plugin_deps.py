"""Print the third-party dependencies the plugins declare (one per line), without mubench's own.

scripts/install.sh installs them into the interpreter beside the stack, so that .venv and tox's
per-plugin envs (both with system site-packages, both installing plugins with --no-deps) have them.
"""
from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path


def plugin_dependencies(plugins_dir: Path) -> list[str]:
    found: dict[str, str] = {}
    for pyproject in sorted(plugins_dir.glob("mubench-plugin-*/pyproject.toml")):
        for dep in tomllib.loads(pyproject.read_text()).get("project", {}).get("dependencies", []):
            name = re.split(r"[<>=!~;\[ ]", dep, maxsplit=1)[0].strip().lower().replace("_", "-")
            if not name.startswith("mubench"):
                found.setdefault(name, dep)
    return list(found.values())


if __name__ == "__main__":
    sys.stdout.write("".join(f"{dep}\n" for dep in plugin_dependencies(Path(sys.argv[1] if len(sys.argv) > 1 else "plugins"))))
