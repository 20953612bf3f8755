"""tox's inline plugin: one env per ``plugins/mubench-plugin-*`` folder, found at run time.

A new plugin needs no edit of tox.ini: its folder name is its env name (``tox -e neggrad``), and the
generic ``[testenv]`` of tox.ini installs the core and that one plugin and runs its tests.
"""
from __future__ import annotations

from pathlib import Path

from tox.plugin import impl

PLUGINS = Path(__file__).parent / "plugins"


def plugin_envs() -> list[str]:
    return sorted(p.name.removeprefix("mubench-plugin-") for p in PLUGINS.glob("mubench-plugin-*") if (p / "pyproject.toml").is_file())


@impl
def tox_extend_envs():
    return tuple(plugin_envs())
