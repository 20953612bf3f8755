"""scripts/get_uv.py: uv for the set-up without installing anything into the user's interpreter.

The path for an interpreter without pip/ensurepip (Debian's python3 without python3-venv) reads uv's
wheel from a PyPI-style JSON API; here that API is a local server on loopback serving a wheel made in
the test, so the sha256 check and the unpacking are exercised offline."""
from __future__ import annotations

import hashlib
import http.server
import importlib.util
import io
import json
import platform
import threading
import zipfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "get_uv.py"


def _load(monkeypatch, tmp_path, index):
    monkeypatch.setenv("MUBENCH_PYPI_JSON", index)
    spec = importlib.util.spec_from_file_location("get_uv_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "TOOLS", tmp_path / ".tools")
    return module


@pytest.fixture
def index(tmp_path):
    """A PyPI JSON API on 127.0.0.1 listing one uv wheel; ``state['sha']`` is the digest it claims."""
    wheel = io.BytesIO()
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("uv-0.13.9.data/scripts/uv", "#!/bin/sh\necho uv-from-wheel\n")
    body = wheel.getvalue()
    arch = {"arm64": "aarch64", "amd64": "x86_64"}.get(platform.machine().lower(), platform.machine().lower())
    state = {"sha": hashlib.sha256(body).hexdigest()}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            if self.path.endswith("/json"):
                name = f"uv-0.13.9-py3-none-manylinux_2_17_{arch}.manylinux2014_{arch}.whl"
                url = f"http://127.0.0.1:{self.server.server_port}/{name}"
                payload = json.dumps({"urls": [{"filename": name, "url": url, "digests": {"sha256": state["sha"]}}]}).encode()
            else:
                payload = body
            self.send_response(200)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/pypi", state
    server.shutdown()


@pytest.mark.skipif(platform.system() != "Linux", reason="uv's manylinux wheel is chosen on Linux only")
def test_uv_from_its_pypi_wheel_is_unpacked_executable(monkeypatch, tmp_path, index):
    url, _ = index
    get_uv = _load(monkeypatch, tmp_path, url)
    uv = get_uv._via_pypi()
    assert uv == tmp_path / ".tools" / "bin" / "uv"
    assert uv.stat().st_mode & 0o111
    assert uv.read_text().endswith("echo uv-from-wheel\n")


@pytest.mark.skipif(platform.system() != "Linux", reason="uv's manylinux wheel is chosen on Linux only")
def test_a_wheel_that_does_not_match_its_sha256_installs_nothing(monkeypatch, tmp_path, index):
    url, state = index
    state["sha"] = "0" * 64
    get_uv = _load(monkeypatch, tmp_path, url)
    with pytest.raises(SystemExit, match="does not match the sha256"):
        get_uv._via_pypi()
    assert not (tmp_path / ".tools" / "bin" / "uv").exists()


def test_a_uv_on_path_is_used_as_it_is(monkeypatch, tmp_path, capsys):
    fake = tmp_path / "bin" / "uv"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    get_uv = _load(monkeypatch, tmp_path, "http://127.0.0.1:9/unused")
    assert get_uv.main() == 0
    assert capsys.readouterr().out.strip() == str(fake)
    assert not (tmp_path / ".tools").exists()
