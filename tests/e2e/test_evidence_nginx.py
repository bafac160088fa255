"""The nginx configuration of deploy/ (deploy/nginx.conf.template, as deploy/stack.py renders it) in
front of the test stack: the web chat upload path takes files over the 1 MB body cap every other
path keeps, and still refuses more than the attachment limit."""

from __future__ import annotations

import io
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests

from deploy.stack import NGINX_TEMPLATE
from tests.e2e.evidence_support import open_conversation, upload
from tests.e2e.servers import free_port
from tests.polling import wait_for

pytestmark = pytest.mark.e2e

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MB = 1024 * 1024


@pytest.fixture
def nginx(stack, tmp_path):
    if not Path(NGINX).exists():
        pytest.skip("nginx not installed (scripts/system-deps.sh)")
    prefix = tmp_path / "nginx"
    (prefix / "tmp").mkdir(parents=True)
    port = free_port()
    config = NGINX_TEMPLATE.read_text().replace("{{PREFIX}}", str(prefix)).replace("{{PORT}}", str(port))
    config = config.replace("{{UPSTREAM}}", f"    server 127.0.0.1:{stack.rasa_port} max_fails=0;")
    (prefix / "nginx.conf").write_text(config)
    process = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")])
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _up(url), timeout=15, what="nginx")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _up(url: str) -> bool:
    try:
        return requests.get(f"{url}/nginx-health", timeout=1).status_code == 200
    except requests.RequestException:
        time.sleep(0.1)
        return False


def test_the_upload_path_alone_takes_files_over_one_megabyte(stack, nginx):
    from PIL import Image

    picture = io.BytesIO()
    Image.effect_noise((1400, 1400), 80).convert("RGB").save(picture, "PNG")
    assert 1 * MB < len(picture.getvalue()) < 5 * MB
    session_id = open_conversation(stack.url)

    r = upload(nginx, session_id, picture.getvalue(), "image/png", "speedtest.png")
    assert r.status_code == 201, r.text
    # Over the limit: the server's own Chinese answer (413), or nginx's past its slightly larger cap.
    r = upload(nginx, session_id, b"\xff\xd8\xff" + b"\0" * (5 * MB))
    assert r.status_code == 413
    assert upload(nginx, session_id, b"\0" * (7 * MB)).status_code == 413
    # Every other path keeps the 1 MB cap.
    r = requests.post(f"{nginx}/webhooks/rest/webhook", data=b"{" + b" " * (2 * MB) + b"}",
                      headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 413
