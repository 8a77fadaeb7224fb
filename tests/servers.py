"""Servers on 127.0.0.1 for the tests: a free port, llama.cpp's OpenAI-compatible server over
a pool model's GGUF file, the project's own app under uvicorn in a thread (each stops when
its `with` block ends), and a raw socket server that misbehaves."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def llama_cpp_server(model_path: str | Path, *, alias: str = "smol", api_key: str | None = None, threads: int = 1,
                     start_s: float = 90) -> Iterator[tuple[str, subprocess.Popen]]:
    """`python -m llama_cpp.server` on a free port; yields (base URL …/v1, the process)."""
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--model_alias", alias,
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--logits_all", "True",
           "--n_threads", str(threads)]
    if api_key:
        cmd += ["--api_key", api_key]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + start_s
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("llama_cpp.server exited at start") from None
                if time.time() > deadline:
                    raise RuntimeError(f"llama_cpp.server did not start within {start_s:g} s") from None
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/v1", proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextlib.contextmanager
def running(app) -> Iterator[str]:
    """Serve an ASGI `app` with uvicorn on a free 127.0.0.1 port; yields the base URL (…/v1)."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", timeout_graceful_shutdown=5))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    deadline = time.time() + 20
    while not server.started:
        if time.time() > deadline or not th.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        th.join(timeout=15)


class RawServer:
    """A misbehaving HTTP backend on 127.0.0.1: it hangs (reply=None) or answers a fixed byte
    string to every request, and counts the requests."""

    def __init__(self, reply: bytes | None) -> None:
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.requests = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        conns = []
        while not self._stop.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.requests += 1
            conns.append(c)
            c.settimeout(2)
            try:
                c.recv(65536)
                if self.reply is not None:
                    c.sendall(self.reply)
                    c.close()
            except OSError:
                pass
        for c in conns:
            c.close()

    def close(self) -> None:
        self._stop.set()
        self._t.join(timeout=5)
        self.sock.close()
