"""The plugin manager with real plugin distributions (tests/plugins): broken, duplicate, selection."""
from __future__ import annotations

import json
import subprocess

import pytest

from conftest import mubench_cmd
from mubench_harness.plugins import BUILTIN_PLUGINS, PluginError, load_registry


def test_builtins_are_registered_first_as_ordinary_plugins():
    reg = load_registry()
    assert [p.name for p in reg.plugins[: len(BUILTIN_PLUGINS)]] == list(BUILTIN_PLUGINS)
    assert reg.get("tasks", "toy_blobs").name == "toy_blobs"
    assert reg.provider("models", "toy_mlp").distribution == "mubench-harness"


def test_entry_point_plugin_is_found(install_plugins):
    install_plugins("testkit")
    reg = load_registry()
    info = reg.provider("unlearners", "ascent")
    assert (info.name, info.distribution, info.version) == ("testkit", "mubench-plugin-testkit", "0.0.1")
    assert reg.get("metrics", "boom").factory == "mubench_testkit.impl:Boom"


def test_broken_plugin_is_reported_and_others_still_work(install_plugins):
    install_plugins("testkit", "broken")
    reg = load_registry()
    [broken] = reg.broken
    assert (broken.name, broken.distribution, broken.version) == ("broken", "mubench-plugin-broken", "0.0.2")
    assert broken.error.startswith("ImportError: mubench_broken needs a library")
    assert {s.name for s in reg.specs("unlearners")} >= {"ascent", "exact"}


def test_duplicate_names_both_distributions(install_plugins):
    install_plugins("testkit", "dupe")
    reg = load_registry()
    with pytest.raises(PluginError) as info:
        reg.get("unlearners", "ascent")
    assert "mubench-plugin-dupe" in str(info.value) and "mubench-plugin-testkit" in str(info.value)
    assert reg.get("unlearners", "exact").name == "exact"  # only the conflicting name is unusable


def test_unknown_name_did_you_mean():
    with pytest.raises(PluginError, match="did you mean 'toy_blobs'"):
        load_registry().get("tasks", "toy_blob")


def test_disable_and_load_plugins(install_plugins, monkeypatch):
    install_plugins("testkit", "dupe", "broken")
    monkeypatch.setenv("MUBENCH_DISABLE_PLUGINS", "dupe,broken")
    reg = load_registry()
    assert reg.get("unlearners", "ascent") and not reg.broken and not reg.conflicts
    monkeypatch.delenv("MUBENCH_DISABLE_PLUGINS")
    monkeypatch.setenv("MUBENCH_LOAD_PLUGINS", "dupe")
    reg = load_registry()
    assert reg.provider("unlearners", "ascent").distribution == "mubench-plugin-dupe"
    assert "exact" not in reg.components["unlearners"]  # testkit not loaded
    assert reg.get("tasks", "toy_blobs")  # built-ins always load


def test_cli_plugins_shows_the_error_while_list_works(install_plugins, cli_env):
    install_plugins("testkit", "broken")
    env = cli_env()
    out = subprocess.run([*mubench_cmd(), "plugins"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("broken"))
    assert "mubench-plugin-broken" in line and "0.0.2" in line and "BROKEN: ImportError" in line
    js = json.loads(subprocess.run([*mubench_cmd(), "plugins", "--json"], capture_output=True, text=True, env=env, timeout=60).stdout)
    [broken] = [p for p in js["plugins"] if p["error"]]
    assert broken["distribution"] == "mubench-plugin-broken"
    lst = subprocess.run([*mubench_cmd(), "list", "unlearners", "--json"], capture_output=True, text=True, env=env, timeout=60)
    assert lst.returncode == 0
    items = json.loads(lst.stdout)
    assert {"ascent", "exact"} <= {i["name"] for i in items}
    assert all({"name", "plugin", "summary"} <= set(i) for i in items)
    assert "failed to load" in lst.stderr
