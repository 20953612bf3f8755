"""tox's inline plugin: one env per ``plugins/mubench-plugin-*`` folder, found at run time, and its deps.

A new plugin needs no edit of tox.ini: its folder name is its env name (``tox -e neggrad``). Each env
installs, in one uv resolution, the pinned stack, the core, that one plugin and the companion plugins
its ``test`` extra declares (a model family is tested on a task's batches) — nothing else, so a hidden
dependency on another plugin fails its tests (scripts/check_isolation.py checks the set).
"""
from __future__ import annotations

import sys
from pathlib import Path

from tox.config.loader.memory import MemoryLoader
from tox.plugin import impl
from tox.tox_env.python.pip.req_file import PythonDeps

ROOT = Path(__file__).parent
PLUGINS = ROOT / "plugins"
sys.path.insert(0, str(ROOT / "scripts"))
from check_isolation import companions  # noqa: E402


def plugin_envs() -> list[str]:
    return sorted(p.name.removeprefix("mubench-plugin-") for p in PLUGINS.glob("mubench-plugin-*") if (p / "pyproject.toml").is_file())


def env_deps(env_name: str) -> list[str]:
    """What env ``env_name`` installs: the stack and the core, plus the plugin and its companions."""
    deps = [f"-r {ROOT / 'requirements' / 'stack.txt'}", f"-e {ROOT}"]
    if env_name in plugin_envs():
        deps += [f"-e {PLUGINS / dist}" for dist in [f"mubench-plugin-{env_name}", *companions(env_name)]]
    return deps


@impl
def tox_extend_envs():
    return tuple(plugin_envs())


@impl
def tox_add_env_config(env_conf, state):
    env_conf.loaders.insert(0, MemoryLoader(deps=PythonDeps(env_deps(env_conf.name), root=ROOT)))
