#!/usr/bin/env bash
# Set up a fresh machine: the stack into the interpreter, then the core and every plugin (editable)
# into .venv, which sees the stack through --system-site-packages.
#   bash scripts/install.sh            (PYTHON=python3.11 to choose the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

# 1. the heavy stack, once per interpreter; plugins' own third-party dependencies beside it
DS_BUILD_OPS=0 "$PY" -m pip install -q --disable-pip-version-check -r requirements/stack.txt
mapfile -t extra < <("$PY" scripts/plugin_deps.py plugins)
if [ "${#extra[@]}" -gt 0 ]; then
  DS_BUILD_OPS=0 "$PY" -m pip install -q --disable-pip-version-check "${extra[@]}" torch==2.13.0
fi

# 2. the core and ALL plugins, editable, into .venv (no dependency resolution: the stack is there)
[ -x .venv/bin/python ] || "$PY" -m venv --system-site-packages .venv
args=(-e .)
for p in plugins/mubench-plugin-*/; do args+=(-e "$p"); done
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation "${args[@]}"
echo "installed: $(.venv/bin/mubench list unlearners --json | .venv/bin/python -c 'import json,sys; print(len(json.load(sys.stdin)))') unlearners," \
     "$(.venv/bin/mubench list tasks --json | .venv/bin/python -c 'import json,sys; print(len(json.load(sys.stdin)))') tasks"
