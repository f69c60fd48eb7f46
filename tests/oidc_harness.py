"""The interop tests' authorization server: panva's oidc-provider (OpenID
Certified), pinned in ``tests/oidc/package-lock.json`` and configured by
``tests/oidc/server.mjs``, started once per session on 127.0.0.2.

Its clients are registered with the callback the lab gives this issuer (one path per
provider, ``flowlab.core.runner.callbacks``), as a developer would do.
Under ``CI=true`` a missing Node or install fails the run; elsewhere the interop
tests skip with the reason (as ``tests/browser.py`` does for Chromium).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from flowlab.core.runner.callbacks import for_issuer

HERE = Path(__file__).resolve().parent
SERVER_DIR = HERE / "oidc"
HOST = "127.0.0.2"  # not the lab's host: it refuses endpoints there (cookies)
# Clients of server.mjs: (client id, secret or None).
WEB = ("flowlab-web", "flowlab-web-secret")
SPA = ("flowlab-spa", None)
NATIVE = ("flowlab-native", None)
CODE_ONLY = ("flowlab-code-only", "flowlab-code-only-secret")


@dataclass
class OidcServer:
    issuer: str
    process: subprocess.Popen
    log: Path
    resource: str = ""  # the MCP server beside it (tests/oidc/mcp-server.mjs)
    tenant_issuer: str = ""  # a second oidc-provider, mounted under /tenant
    tenant_resource: str = ""  # the MCP server whose issuer that one is
    orphan_resource: str = ""  # an MCP server naming an issuer with no metadata

    @property
    def discovery_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def unavailable(reason: str):
    """Fail under CI, skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"oidc-provider unavailable: {reason}", pytrace=False)
    pytest.skip(f"oidc-provider unavailable: {reason}")


def _installed() -> bool:
    return (SERVER_DIR / "node_modules" / "oidc-provider").is_dir()


def start(redirect_uri: str | Callable[[str], str], timeout: float = 20
          ) -> OidcServer:
    """Install if needed, then start server.mjs on a free port and wait for it.

    ``redirect_uri`` may be a function of the issuer, which is known only here."""
    node = shutil.which("node")
    if node is None:
        unavailable("node is not installed")
    if not _installed():
        subprocess.run(["bash", str(HERE / "install-oidc.sh")], check=False,
                       timeout=300)
    if not _installed():
        unavailable("npm ci did not install tests/oidc/node_modules")
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]
    if callable(redirect_uri):
        redirect_uri = redirect_uri(f"http://{HOST}:{port}")
    log = Path(tempfile.mkstemp(prefix="oidc-provider-", suffix=".log")[1])
    env = {**os.environ, "HOST": HOST, "PORT": str(port),
           "REDIRECT_URIS": redirect_uri, "NODE_ENV": "test"}
    with log.open("w") as out:
        process = subprocess.Popen([node, "server.mjs"], cwd=SERVER_DIR, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    server = OidcServer(f"http://{HOST}:{port}", process, log)
    deadline = time.monotonic() + timeout
    while "listening" not in server.output():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            unavailable("server.mjs did not start:\n" + server.output())
        time.sleep(0.05)
    beside = dict(re.findall(r"^([a-z-]+) (http\S+)$", server.output(), re.M))
    server.resource = beside["mcp-server"]
    server.tenant_issuer = beside["tenant-issuer"]
    server.tenant_resource = beside["tenant-mcp-server"]
    server.orphan_resource = beside["orphan-mcp-server"]
    return server


@pytest.fixture(scope="session")
def oidc_server(live_server):
    """oidc-provider for the whole session, its clients registered with the shared
    live server's callback (the redirect URI the provider page shows)."""
    server = start(lambda issuer: live_server(for_issuer(issuer)))
    yield server
    stop(server)


def stop(server) -> None:
    """Stop a server ``start`` started (killed if it will not end) and drop its log."""
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
    server.log.unlink(missing_ok=True)
