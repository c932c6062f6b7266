"""The server through Starlette's test client: the page, the WebSocket protocol, validation that
keeps the session alive, the session cap, idle sessions, the model download."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

pytest.importorskip("httpx2")
from starlette.testclient import TestClient  # noqa: E402

from shenjing.playground.server import create_app  # noqa: E402


def until(ws, kind: str, limit: int = 50) -> dict:
    """The next message of ``kind``; every frame on the way is acknowledged, as the page does."""
    for _ in range(limit):
        m = ws.receive_json()
        if m["type"] == "frame":
            ws.send_json({"type": "ack"})
        if m["type"] == kind:
            return m
    raise AssertionError(f"no {kind} message")


def test_page_and_static_files_are_served():
    client = TestClient(create_app())
    page = client.get("/")
    assert page.status_code == 200 and 'data-testid="play"' in page.text and "cdn" not in page.text.lower()
    for f in ("app.js", "style.css"):
        assert client.get(f"/static/{f}").status_code == 200


def test_protocol_play_step_reset_and_errors():
    client = TestClient(create_app())
    with client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "config", "hash": "dataset=circle&networkShape=4,4&learningRate=0.03&batchSize=10"})
        state = until(ws, "state")
        assert state["networkShape"] == [4, 4] and len(state["points"]["train"]) == 250
        assert until(ws, "frame")["epoch"] == 0
        ws.send_json({"type": "step"})
        assert until(ws, "frame")["epoch"] == 1
        ws.send_json({"type": "play"})
        epochs = [until(ws, "frame")["epoch"] for _ in range(3)]
        assert epochs == sorted(epochs) and epochs[-1] > 1
        ws.send_json({"type": "pause"})
        for bad, why in (("not json", "Expecting value"), (json.dumps({"type": "fly"}), "unknown message"),
                         (json.dumps({"type": "config", "hash": "learningRate=-1"}), "learningRate"),
                         (json.dumps({"type": "upload", "csv": "1,2\n"}), "rows")):
            ws.send_text(bad)
            assert why in until(ws, "error")["message"]
        ws.send_json({"type": "reset"})
        until(ws, "state")
        assert until(ws, "frame")["epoch"] == 0  # still serving after the errors


def test_upload_csv_and_download_model():
    rows = "\n".join(f"{x},{y},{1 if x * y > 0 else 0}" for x in (-4, -2, 2, 4) for y in (-3, -1, 1, 3))
    # one event loop for the WebSocket and the download, as under uvicorn (the session's lock belongs to it)
    with TestClient(create_app()) as client, client.websocket_connect("/ws") as ws:
        ws.send_json({"type": "upload", "csv": "x1,x2,label\n" + rows})
        state = until(ws, "state")
        assert state["custom"] and len(state["points"]["train"]) + len(state["points"]["test"]) == 16
        ws.send_json({"type": "step"})
        until(ws, "frame")
        archive = client.get(f"/export/{state['session']}")
        assert archive.status_code == 200
        assert sorted(zipfile.ZipFile(io.BytesIO(archive.content)).namelist()) == ["model.py", "model.safetensors"]
        assert client.get("/export/nonsense").status_code == 404


def test_sessions_are_capped_and_idle_ones_end():
    client = TestClient(create_app(max_sessions=1, idle_timeout=0.5))
    with client.websocket_connect("/ws") as first:
        first.send_json({"type": "config", "hash": ""})
        until(first, "state")
        with client.websocket_connect("/ws") as second:
            assert "already runs 1 sessions" in second.receive_json()["message"]
        assert "idle" in until(first, "error")["message"]
    assert client.get("/health").json()["sessions"] == 0
