"""Print the path of a uv executable the project may use, fetching uv into ``.tools/`` when needed.

uv (https://docs.astral.sh/uv/) builds the project's environments: it hard-links packages from its
cache, so `.venv` and each of tox's envs get the whole stack in seconds after the first. This script
never installs anything into the interpreter that runs it (Debian's python3 refuses that, PEP 668,
and elsewhere it would change the user's site-packages):

1. a ``uv`` already on PATH is used as it is;
2. else a venv of the project's own (``.tools/``) gets uv through its own pip;
3. else (an interpreter without ensurepip, such as Debian's python3 without python3-venv) uv's wheel
   is read from PyPI's JSON API with the standard library, checked against the sha256 PyPI lists,
   and its ``uv`` binary is unpacked into ``.tools/bin``.

    python3 scripts/get_uv.py        # prints the path; exit 2 with one line when uv can't be had
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[1] / ".tools"
UV_VERSION = "0.13.9"  # the version the project is tested with
INDEX = os.environ.get("MUBENCH_PYPI_JSON", "https://pypi.org/pypi")


def _via_pip() -> Path | None:
    """uv into the project's own .tools venv with that venv's pip (None when there is no ensurepip)."""
    py = TOOLS / "bin" / "python"
    if not py.exists():
        made = subprocess.run([sys.executable, "-m", "venv", str(TOOLS)], capture_output=True, text=True)
        if made.returncode != 0:
            shutil.rmtree(TOOLS, ignore_errors=True)
            return None
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", f"uv=={UV_VERSION}"],
                   check=True)
    return TOOLS / "bin" / "uv"


def _wheel_tag() -> str:
    machine = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}.get(platform.machine().lower())
    if sys.platform != "linux" or machine is None:
        raise SystemExit(f"get_uv: no pip here and no uv wheel known for {sys.platform}/{platform.machine()}; "
                         "install uv (https://docs.astral.sh/uv/) and rerun")
    return f"manylinux_2_17_{machine}"


def _via_pypi() -> Path:
    """uv's binary straight from its PyPI wheel, sha256 checked (stdlib only)."""
    with urllib.request.urlopen(f"{INDEX}/uv/{UV_VERSION}/json", timeout=60) as answer:
        files = json.load(answer)["urls"]
    tag = _wheel_tag()
    wheel = next((f for f in files if f["filename"].endswith(".whl") and tag in f["filename"]), None)
    if wheel is None:
        raise SystemExit(f"get_uv: PyPI lists no uv {UV_VERSION} wheel for {tag}")
    with urllib.request.urlopen(wheel["url"], timeout=300) as answer:
        data = answer.read()
    if hashlib.sha256(data).hexdigest() != wheel["digests"]["sha256"]:
        raise SystemExit(f"get_uv: {wheel['filename']} does not match the sha256 PyPI lists; nothing installed")
    target = TOOLS / "bin" / "uv"
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        member = next(n for n in archive.namelist() if n.endswith("/scripts/uv"))
        target.write_bytes(archive.read(member))
    target.chmod(0o755)
    return target


def main() -> int:
    found = shutil.which("uv")
    if found:
        print(found)
        return 0
    uv = TOOLS / "bin" / "uv"
    if not uv.exists():
        try:
            uv = _via_pip() or _via_pypi()
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"get_uv: could not fetch uv into {TOOLS}: {exc}", file=sys.stderr)
            return 2
    print(uv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
