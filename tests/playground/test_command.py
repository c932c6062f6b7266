"""``shenjing playground`` as a user starts it: the URL on stdout, the page served, Ctrl-C ends it
cleanly; a bad or busy port is one line and an exit code."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from shenjing import cli

CLI = [sys.executable, "-m", "shenjing.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_starts_serves_and_stops_on_ctrl_c():
    port = free_port()
    proc = subprocess.Popen(CLI + ["playground", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
        for _ in range(100):  # the URL is printed before uvicorn listens
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    assert json.load(r) == {"sessions": 0, "max": 16}
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("the server did not answer")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
            assert 'data-testid="heatmap"' in r.read().decode()
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_bad_port_is_a_usage_error():
    r = subprocess.run(CLI + ["playground", "--port", "70000"], capture_output=True, text=True)
    assert r.returncode == cli.EXIT_USAGE and "--port" in r.stderr


def test_busy_port_is_one_line():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = subprocess.run(CLI + ["playground", "--port", str(port)], capture_output=True, text=True, timeout=60)
    assert r.returncode == cli.EXIT_FILESYSTEM
    assert f"cannot listen on 127.0.0.1:{port}" in r.stderr and "--port" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
