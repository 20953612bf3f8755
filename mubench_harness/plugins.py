"""Plugin manager: built-ins first, then the ``mubench`` entry points, each inside its own try/except.

A plugin that fails to import is recorded in :attr:`Registry.broken` and reported by ``mubench
plugins``; it never stops the others. Two plugins registering the same component name is an error
that names both distributions (silently picking one would change which method a benchmark ran).
"""
from __future__ import annotations

import difflib
import importlib
import os
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from . import hookspecs
from .specs import ExecutorSpec, MetricSpec, ModelSpec, Spec, TaskSpec, UnlearnerSpec

GROUP = "mubench"
#: the core's own components, registered exactly like external plugins
BUILTIN_PLUGINS = (
    "mubench_harness.builtins.toy",
    "mubench_harness.metrics.builtin",
    "mubench_harness.runner",
    "mubench_harness.executors",
)
KINDS = {"tasks": TaskSpec, "models": ModelSpec, "unlearners": UnlearnerSpec, "metrics": MetricSpec,
         "executors": ExecutorSpec}


class PluginError(Exception):
    """A plugin problem that makes a benchmark unrunnable (duplicate or unknown component)."""


@dataclass
class PluginInfo:
    name: str
    distribution: str
    version: str
    module: str
    error: str | None = None


@dataclass
class Registry:
    manager: pluggy.PluginManager
    plugins: list[PluginInfo] = field(default_factory=list)
    components: dict[str, dict[str, tuple[Spec, PluginInfo]]] = field(default_factory=dict)
    #: (kind, name) -> every plugin that registered it, when more than one did
    conflicts: dict[tuple[str, str], list[PluginInfo]] = field(default_factory=dict)

    @property
    def broken(self) -> list[PluginInfo]:
        return [p for p in self.plugins if p.error]

    def get(self, kind: str, name: str) -> Spec:
        if (kind, name) in self.conflicts:
            who = " and ".join(f"{p.distribution} ({p.name})" for p in self.conflicts[kind, name])
            raise PluginError(f"{kind[:-1]} {name!r} is registered by {who}; uninstall or disable one")
        table = self.components[kind]
        if name not in table:
            close = difflib.get_close_matches(name, list(table), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; installed: {', '.join(sorted(table)) or 'none'}"
            raise PluginError(f"unknown {kind[:-1]} {name!r}{hint}")
        return table[name][0]

    def provider(self, kind: str, name: str) -> PluginInfo:
        return self.components[kind][name][1]

    def specs(self, kind: str) -> list[Spec]:
        return [spec for spec, _ in sorted(self.components[kind].values(), key=lambda sp: sp[0].name)]


def _selected(name: str) -> bool:
    load = os.environ.get("MUBENCH_LOAD_PLUGINS")
    if load is not None and name not in {n.strip() for n in load.split(",")}:
        return False
    disabled = {n.strip() for n in os.environ.get("MUBENCH_DISABLE_PLUGINS", "").split(",")}
    return name not in disabled


def _entry_points() -> list[tuple[metadata.EntryPoint, str, str]]:
    found, seen = [], set()
    for dist in metadata.distributions():
        # the first copy of a distribution on sys.path is the one imported; a second (an editable
        # install's build leaves src/NAME.egg-info beside the source) is the same plugin, not a rival
        key = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if key in seen:
            continue
        seen.add(key)
        for ep in dist.entry_points:
            if ep.group == GROUP:
                found.append((ep, dist.metadata["Name"], dist.version))
    return sorted(found, key=lambda item: item[0].name)


def load_registry(extra_plugins: tuple[Any, ...] = ()) -> Registry:
    """Build the plugin manager and collect every component. ``extra_plugins`` are objects or modules
    registered after the entry points (tests use it to add a tiny plugin)."""
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    registry = Registry(pm)
    for module_name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(module_name), name=module_name)
        registry.plugins.append(PluginInfo(module_name, "mubench-harness", _core_version(), module_name))
    for ep, dist, version in _entry_points():
        if not _selected(ep.name):
            continue
        info = PluginInfo(ep.name, dist, version, ep.value)
        registry.plugins.append(info)
        try:
            pm.register(ep.load(), name=ep.name)
        except Exception as exc:  # noqa: BLE001 - a broken plugin is reported, never fatal
            info.error = f"{type(exc).__name__}: {exc}"
    for i, plugin in enumerate(extra_plugins):
        name = getattr(plugin, "__name__", f"extra-{i}")
        pm.register(plugin, name=name)
        registry.plugins.append(PluginInfo(name, "(test)", "0", name))
    _collect(registry)
    return registry


def _collect(registry: Registry) -> None:
    by_name = {p.name: p for p in registry.plugins}
    for kind, spec_type in KINDS.items():
        table: dict[str, tuple[Spec, PluginInfo]] = {}
        hook = getattr(registry.manager.hook, f"mubench_{kind}")
        for impl in hook.get_hookimpls():
            info = by_name.get(registry.manager.get_name(impl.plugin) or "", PluginInfo("?", "?", "?", "?"))
            try:
                specs = list(impl.function() or ())
                for spec in specs:
                    if not isinstance(spec, spec_type):
                        raise TypeError(f"mubench_{kind} yielded {type(spec).__name__}, expected {spec_type.__name__}")
            except Exception as exc:  # noqa: BLE001
                info.error = info.error or f"{type(exc).__name__}: {exc}"
                continue
            for spec in specs:
                if spec.name in table:  # a conflict is an error when the name is used, not for listing
                    registry.conflicts.setdefault((kind, spec.name), [table[spec.name][1]]).append(info)
                    continue
                table[spec.name] = (spec, info)
        registry.components[kind] = table


def _core_version() -> str:
    try:
        return metadata.version("mubench-harness")
    except metadata.PackageNotFoundError:
        return "0+unknown"
