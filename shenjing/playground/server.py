"""The playground's ASGI server (Starlette on uvicorn): the page and its files, one WebSocket —
and one training session — per browser tab, and the model download.

Messages from the page (JSON): ``config`` (a URL hash), ``play``, ``pause``, ``step``, ``reset``,
``regenerate``, ``upload`` (CSV text), ``ack`` (a frame was drawn). To the page: ``state`` after a
(re)build, ``frame`` after training (a new one only once the last is acknowledged: frames coalesce
when the browser falls behind), ``error`` for a refused message. Every input is validated; a bad
message is answered with an error and the session goes on."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from .config import ConfigError, parse
from .datasets import CSVError, parse_csv
from .export import export_zip
from .session import Session

STATIC = Path(__file__).with_name("static")
MAX_MESSAGE = 1_100_000  # bytes: a CSV of up to 1 MB and its envelope


@dataclass
class Tab:
    session: Session
    playing: bool = False
    awaiting_ack: bool = False
    last_seen: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Playground:
    """The sessions of one server: at most ``max_sessions``, each closed after ``idle_timeout`` s
    without a message from its tab while paused."""

    def __init__(self, max_sessions: int = 16, idle_timeout: float = 900.0) -> None:
        self.max_sessions, self.idle_timeout = max_sessions, idle_timeout
        self.tabs: dict[str, Tab] = {}

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/", lambda request: FileResponse(STATIC / "index.html")),
            Route("/export/{sid}", self.export),
            Route("/health", lambda request: JSONResponse({"sessions": len(self.tabs), "max": self.max_sessions})),
            WebSocketRoute("/ws", self.websocket),
            Mount("/static", StaticFiles(directory=STATIC)),
        ])

    async def export(self, request) -> Response:
        tab = self.tabs.get(request.path_params["sid"])
        if tab is None:
            return JSONResponse({"error": "no such session (it may have ended)"}, status_code=404)
        async with tab.lock:
            data = await asyncio.to_thread(export_zip, tab.session)
        return Response(data, media_type="application/zip", headers={"Content-Disposition": 'attachment; filename="shenjing-playground.zip"'})

    async def websocket(self, ws: WebSocket) -> None:
        await ws.accept()
        if len(self.tabs) >= self.max_sessions:
            await ws.send_json({"type": "error", "message": f"the server already runs {self.max_sessions} sessions; try again later"})
            await ws.close(code=1013)
            return
        sid = secrets.token_urlsafe(12)
        tab = self.tabs[sid] = Tab(Session(parse("")))
        trainer = asyncio.create_task(self.train_loop(ws, sid, tab))
        try:
            await self.receive_loop(ws, sid, tab)
        except WebSocketDisconnect:
            pass
        finally:
            trainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await trainer
            self.tabs.pop(sid, None)

    async def receive_loop(self, ws: WebSocket, sid: str, tab: Tab) -> None:
        while True:
            try:
                text = await asyncio.wait_for(ws.receive_text(), timeout=self.idle_timeout)
            except asyncio.TimeoutError:
                if tab.playing:
                    continue
                await ws.send_json({"type": "error", "message": "this session was idle and has ended; reload the page"})
                await ws.close(code=1001)
                return
            tab.last_seen = time.monotonic()
            try:
                await self.handle(ws, sid, tab, text)
            except (ConfigError, CSVError, ValueError, TypeError, KeyError) as e:
                await ws.send_json({"type": "error", "message": str(e)})

    async def handle(self, ws: WebSocket, sid: str, tab: Tab, text: str) -> None:
        if len(text) > MAX_MESSAGE:
            raise ValueError(f"message too large ({len(text)} bytes; at most {MAX_MESSAGE})")
        msg = json.loads(text)
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            raise ValueError("a message is a JSON object with a 'type'")
        kind = msg["type"]
        if kind == "ack":
            tab.awaiting_ack = False
        elif kind in ("play", "pause"):
            tab.playing = kind == "play" and not tab.session.diverged
        elif kind == "step":
            tab.playing = False
            async with tab.lock:
                await asyncio.to_thread(tab.session.train_epoch)
            await self.send_frame(ws, tab, force=True)
        elif kind in ("config", "reset", "regenerate", "upload"):
            tab.playing = False
            async with tab.lock:
                await asyncio.to_thread(self.rebuild, tab, kind, msg)
            await ws.send_json(tab.session.state(sid))
            await self.send_frame(ws, tab, force=True)
        else:
            raise ValueError(f"unknown message type {kind!r}")

    @staticmethod
    def rebuild(tab: Tab, kind: str, msg: dict) -> None:
        s = tab.session
        if kind == "config":
            cfg = parse(str(msg.get("hash", "")))
            custom = s.custom if cfg.dataset == "csv" and s.custom is not None else None
            if cfg.dataset == "csv" and custom is None:
                raise ConfigError("dataset=csv: upload a CSV file first")
            tab.session = Session(cfg, custom)
        elif kind == "reset":
            s.reset()
        elif kind == "regenerate":
            s.regenerate()
        else:
            points = parse_csv(str(msg.get("csv", "")), s.cfg.problem)
            s.cfg.dataset = "csv"
            tab.session = Session(s.cfg, points)

    async def send_frame(self, ws: WebSocket, tab: Tab, force: bool = False) -> None:
        if tab.awaiting_ack and not force:
            return
        async with tab.lock:
            frame = await asyncio.to_thread(tab.session.frame)
        tab.awaiting_ack = True
        await ws.send_json(frame)
        if frame["diverged"]:
            tab.playing = False

    async def train_loop(self, ws: WebSocket, sid: str, tab: Tab) -> None:
        """While playing: train an epoch, and send a frame whenever the page has drawn the last one."""
        while True:
            if not tab.playing:
                await asyncio.sleep(0.02)
                continue
            async with tab.lock:
                await asyncio.to_thread(tab.session.train_epoch)
            await self.send_frame(ws, tab, force=bool(tab.session.diverged))  # divergence is always shown
            await asyncio.sleep(0)


def create_app(max_sessions: int = 16, idle_timeout: float = 900.0) -> Starlette:
    return Playground(max_sessions, idle_timeout).app()


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False) -> None:
    """Run the playground until Ctrl-C."""
    import uvicorn

    url = f"http://{host}:{port}/"
    print(f"shenjing playground: {url}  (Ctrl-C to stop)", flush=True)
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    uvicorn.run(create_app(), host=host, port=port, log_level="warning", ws_max_size=MAX_MESSAGE)
