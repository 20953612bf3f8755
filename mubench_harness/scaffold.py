"""Create a new plugin distribution from ``plugins/_template`` (one template, no copy-paste drift).

    python -m mubench_harness.scaffold NAME [--plugins-dir plugins]
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

PLACEHOLDER = "__NAME__"
TEMPLATE = Path(__file__).resolve().parents[1] / "plugins" / "_template"


def create(name: str, plugins_dir: Path, template: Path = TEMPLATE) -> Path:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ValueError(f"plugin name {name!r} must be lower-case letters, digits and '_'")
    dest = plugins_dir / f"mubench-plugin-{name}"
    if not (template / "pyproject.toml").is_file():
        raise FileNotFoundError(f"no plugin template at {template} (run from a source checkout)")
    if dest.exists():
        raise FileExistsError(f"{dest} already exists")
    for src in sorted(template.rglob("*")):
        if "__pycache__" in src.parts or src.suffix == ".pyc":
            continue
        target = dest / str(src.relative_to(template)).replace(PLACEHOLDER, name)
        if src.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(src.read_text().replace(PLACEHOLDER, name))
    return dest


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--plugins-dir", type=Path, default=Path("plugins"))
    ns = parser.parse_args(argv)
    print(create(ns.name, ns.plugins_dir))


if __name__ == "__main__":
    main()
