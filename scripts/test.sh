#!/usr/bin/env bash
# Every test: the core suite in .venv (core + all plugins installed), then the tox matrix (the core
# alone, and each plugin alone beside the core), two envs at a time. Run scripts/install.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 OMP_NUM_THREADS=1
# tox-uv's envs resolve the pinned torch like scripts/install.sh does (a local wheel folder pip knows of)
[ -n "${UV_FIND_LINKS:-}" ] || [ -z "${PIP_FIND_LINKS:-}" ] || export UV_FIND_LINKS="${PIP_FIND_LINKS// /,}"

# pytest exits 5 when it collects nothing: a plugin without tests is an error here, said plainly
for p in plugins/mubench-plugin-*/; do
  compgen -G "$p/tests/test_*.py" > /dev/null || { echo "error: $p has no tests/test_*.py" >&2; exit 1; }
done

# the core suite with every plugin installed (integration: the mini benchmark, the analyses, sharded
# runs), then the tox matrix: the core alone, and each plugin's own suite beside the core with only its
# declared companions (each plugin's tests run there, once, in the stricter set-up)
.venv/bin/python -m pytest -q -p no:cacheprovider -n 2 -m "not slow" tests
.venv/bin/tox p -p "${TOX_PARALLEL:-2}" -e ALL
