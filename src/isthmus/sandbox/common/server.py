"""Run a sandbox app: in the foreground for the CLI, or in a background thread for tests."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

from isthmus.sandbox.common.tls import TlsFiles

# A sandbox may be holding an injected "timeout" request open; do not wait for it long.
_GRACEFUL_SHUTDOWN_SECONDS = 1
_STARTUP_TIMEOUT_SECONDS = 10.0


def _config(
    app: ASGIApp, host: str, port: int, tls: TlsFiles | None, log_level: str
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        ssl_certfile=str(tls.cert_path) if tls else None,
        ssl_keyfile=str(tls.key_path) if tls else None,
        timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_SECONDS,
        lifespan="on",
    )


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Without TCP_NODELAY (inherited by accepted connections) a keep-alive client waits
    # ~40 ms per answer on delayed ACKs, because headers and body go out as two writes.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    return sock


def serve(
    app: ASGIApp, host: str, port: int, tls: TlsFiles | None = None, log_level: str = "info"
) -> None:
    """Serve ``app`` until interrupted (Ctrl-C); HTTPS when ``tls`` is given."""
    sock = _listening_socket(host, port)
    try:
        uvicorn.Server(_config(app, host, port, tls, log_level)).run(sockets=[sock])
    finally:
        sock.close()


@contextlib.contextmanager
def running_server(
    app: ASGIApp, *, tls: TlsFiles | None = None, host: str = "127.0.0.1"
) -> Iterator[str]:
    """Run ``app`` in a background thread on a free port; yield its base URL.

    The URL has no trailing slash (``http://127.0.0.1:54321``). The server stops when the
    ``with`` block ends.

    Raises:
        RuntimeError: the server did not start within a few seconds.
    """
    sock = _listening_socket(host, 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(_config(app, host, port, tls, "warning"))
    # uvicorn installs no signal handlers off the main thread, so Ctrl-C still reaches
    # the test runner.
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"sandbox-{port}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + _STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"sandbox server on {host}:{port} did not start")
        time.sleep(0.01)
    scheme = "https" if tls else "http"
    try:
        yield f"{scheme}://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=_GRACEFUL_SHUTDOWN_SECONDS + 5)
        sock.close()
