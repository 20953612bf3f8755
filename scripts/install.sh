#!/usr/bin/env bash
# Set up a fresh machine: everything goes into .venv, an environment the project owns; the interpreter
# that runs this script is only read (never installed into: Debian's python3 refuses that, PEP 668).
#   bash scripts/install.sh            (PYTHON=python3.12 to choose the interpreter)
# uv builds the env (scripts/get_uv.py finds or fetches it into .tools/): it hard-links packages from
# its cache, so tox's per-plugin envs get the same stack in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "error: $PY is older than Python 3.11" >&2; exit 2; }
UV=$("$PY" scripts/get_uv.py)
# torch is pinned (requirements/stack.txt); a local wheel folder that pip is told about (PIP_FIND_LINKS)
# is offered to uv too, which does not read pip's configuration. Elsewhere PyPI's torch is a CUDA
# build that also runs on CPU: set UV_TORCH_BACKEND=cpu (or UV_INDEX) to take the CPU build instead.
links=()
for d in ${PIP_FIND_LINKS:-}; do links+=(--find-links "$d"); done
export UV_LINK_MODE=${UV_LINK_MODE:-hardlink}

[ -x .venv/bin/python ] || "$UV" venv -q --python "$PY" .venv
args=(-r requirements/stack.txt -e .)
for p in plugins/mubench-plugin-*/; do args+=(-e "$p"); done
# --compile-bytecode: the stack's .pyc files are written once here. Without them every process that
# imports torch, transformers and diffusers compiles their sources again where PYTHONDONTWRITEBYTECODE is
# set (as on CI machines): 13 s against 5 s per process measured, and `mubench run` with workers, the
# test suite and the distributed tests start dozens of such processes
DS_BUILD_OPS=0 "$UV" pip install -q --compile-bytecode --python .venv/bin/python "${links[@]}" "${args[@]}"
echo "installed into .venv: $(.venv/bin/mubench list unlearners --json | .venv/bin/python -c 'import json,sys; print(len(json.load(sys.stdin)))') unlearners," \
     "$(.venv/bin/mubench list tasks --json | .venv/bin/python -c 'import json,sys; print(len(json.load(sys.stdin)))') tasks"
