"""The playground in a real browser: Debian's chromium, driven by Playwright through its system
executable (no browser download), against a real uvicorn server on 127.0.0.1.

Screenshots go to the test's folder, and to $SHENJING_SCREENSHOTS when set."""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; CI installs it)")
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server():
    import uvicorn

    from shenjing.playground.server import Playground

    playground = Playground()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(playground.app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/", playground
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def page(server):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
        errors: list = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.errors = errors
        yield page
        browser.close()


def shot(page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / name))
    if os.environ.get("SHENJING_SCREENSHOTS"):
        folder = Path(os.environ["SHENJING_SCREENSHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / name))


def number(page, testid: str) -> float:
    text = page.inner_text(f"[data-testid={testid}]")
    try:
        return float(text)
    except ValueError:
        return float("nan")


def wait_for(condition, seconds: float = 60) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_circle_learns_in_the_browser(server, page, tmp_path):
    url, _ = server
    page.goto(url + "#dataset=circle&networkShape=4,4&activation=tanh&learningRate=0.03&batchSize=10")
    assert wait_for(lambda: page.inner_text("[data-testid=epoch]") == "0", 20)
    page.click("[data-testid=play]")
    assert wait_for(lambda: number(page, "epoch") >= 15, 30)
    shot(page, tmp_path, "playground-training.png")  # mid-training, for the README
    assert wait_for(lambda: number(page, "test-loss") < 0.1, 60), page.inner_text("[data-testid=test-loss]")
    page.click("[data-testid=play]")  # pause: the epochs in flight arrive, then nothing moves
    time.sleep(0.5)
    epoch = number(page, "epoch")
    time.sleep(0.5)
    assert number(page, "epoch") == epoch
    page.click("[data-testid=lang]")
    assert wait_for(lambda: "测试损失" in page.inner_text("body"), 10)
    assert number(page, "epoch") >= epoch  # the language changes, the network does not
    drawn = "c => c.getContext('2d').getImageData(20, 20, 1, 1).data[3]"
    assert page.eval_on_selector("canvas[data-key='h-0-0']", drawn) == 255  # heat maps redrawn while paused
    shot(page, tmp_path, "playground-zh.png")
    page.click("[data-testid=lang]")
    assert not page.errors


def test_changing_the_hash_rebuilds_the_network(server, page):
    url, _ = server
    page.goto(url + "#dataset=xor-corners&networkShape=2&activation=tanh&learningRate=0.1&batchSize=10&seed=1")
    assert wait_for(lambda: page.locator("canvas.neuron[data-key^=h-]").count() == 2, 20)
    page.evaluate("location.hash = 'dataset=spiral&networkShape=6,5,4&activation=relu&xSquared=true'")
    assert wait_for(lambda: page.locator("canvas.neuron[data-key^=h-]").count() == 15, 20)
    page.click("[data-testid=step]")
    assert wait_for(lambda: number(page, "epoch") == 1, 20)
    assert "dataset=spiral" in page.evaluate("location.hash")
    page.select_option("[data-testid=activation-1]", "sin")  # one layer's own activation
    assert wait_for(lambda: "activations=relu,sin,relu" in page.evaluate("location.hash"), 20)
    assert wait_for(lambda: page.input_value("[data-testid=activation-1]") == "sin", 20)
    assert page.input_value("[data-testid=activation-0]") == "relu"


def test_upload_a_csv_train_and_download_the_model(server, page, tmp_path):
    url, playground = server
    page.goto(url + "#dataset=circle&networkShape=3&learningRate=0.1")
    assert wait_for(lambda: page.locator("canvas.neuron[data-key^=h-]").count() == 3, 20)
    rng = np.random.default_rng(0)
    pts = rng.uniform(-5, 5, (120, 2))
    csv = tmp_path / "points.csv"
    csv.write_text("x1,x2,label\n" + "\n".join(f"{x:.3f},{y:.3f},{int(x + y > 0)}" for x, y in pts))
    page.set_input_files("[data-testid=csv]", str(csv))
    assert wait_for(lambda: number(page, "epoch") == 0 and len(playground.tabs) > 0 and any(t.session.custom is not None for t in playground.tabs.values()), 20)
    page.click("[data-testid=play]")
    assert wait_for(lambda: number(page, "epoch") >= 20, 30)
    page.click("[data-testid=play]")
    time.sleep(0.3)
    with page.expect_download() as info:
        page.click("[data-testid=download]")
    with zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes())) as z:
        z.extractall(tmp_path / "model")
    probe = np.array([[1.0, 2.0], [-3.0, 0.5], [4.0, -4.0]])
    np.savetxt(tmp_path / "probe.csv", probe, delimiter=",")
    out = subprocess.run([sys.executable, tmp_path / "model" / "model.py", tmp_path / "probe.csv"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    got = np.array([float(line.split(",")[2]) for line in out.stdout.split()])
    session = next(t.session for t in playground.tabs.values() if t.session.custom is not None)
    np.testing.assert_allclose(got, session.predict(probe), rtol=1e-5, atol=1e-6)
    shot(page, tmp_path, "playground-csv.png")
