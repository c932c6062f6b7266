"""The lab report (实验报告): one self-contained HTML page with every figure, number and verdict."""

from __future__ import annotations

import base64
import html
import json
import time
import traceback
from pathlib import Path

from .core import load_all, run_experiment

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;
     max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{margin-bottom:.2em} table{border-collapse:collapse;width:100%;font-size:14px}
th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
.ok{color:#1a7f37;font-weight:600}.no{color:#cf222e;font-weight:600}
section{border-top:2px solid #eee;margin-top:2em;padding-top:.5em}
img{max-width:100%;height:auto;box-sizing:border-box;border:1px solid #eee;margin:.5em 0;cursor:zoom-in} code,pre{background:#f6f8fa;font-size:13px}
.checks{margin:.5em 0} .fig{overflow-x:auto} .fig img.zoom{max-width:none;cursor:zoom-out}
td.nw,th.nw{white-space:nowrap} td a{white-space:nowrap}
pre{padding:.6em;overflow-x:auto;white-space:pre-wrap} .zh{color:#555} .hint{color:#777;font-size:13px}
"""

#: click a figure to see it at its full size (wide multi-panel figures are shrunk to the page width)
_JS = ("document.addEventListener('click',function(e){var t=e.target;"
       "if(t.tagName==='IMG'&&t.parentNode.className==='fig'){t.classList.toggle('zoom');}});")


def _measured_html(measured) -> str:
    text = json.dumps(measured, indent=1, ensure_ascii=False)
    if len(text) > 4000:
        text = text[:4000] + "\n…"
    return f"<pre>{html.escape(text)}</pre>"


def _checks_html(checks) -> str:
    """One row per check: what was required, what was measured, and whether it held."""
    if not checks:
        return ""
    rows = "".join(
        f"<tr><td class={'ok' if c['holds'] else 'no'}>{'✓' if c['holds'] else '✗'}</td><td>{html.escape(c['says'])}</td>"
        f"<td><code>{html.escape(c['key'])}</code> = {html.escape(_short(c['value']))}</td></tr>"
        for c in checks
    )
    return f"<table class=checks><tr><th></th><th>check</th><th>measured</th></tr>{rows}</table>"


def _short(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "…"


def build_report(out_dir: str | Path = "lab-out", quick: bool = False, seed: int = 0, ids=None, progress: bool = True) -> Path:
    """Run the experiments (all, or ``ids``) and write ``out_dir/report.html``; returns its path."""
    out = Path(out_dir)
    exps = load_all()
    results = []
    for exp_id in ids or list(exps):
        exp = exps[exp_id]
        t0 = time.perf_counter()
        try:
            res = run_experiment(exp_id, out, quick=quick, seed=seed)
        except Exception as e:  # an experiment that crashes is reported, not hidden
            res = {"id": exp.id, "title": exp.title, "title_zh": exp.title_zh, "source": exp.source, "claim": exp.claim,
                   "verdict": False, "measured": {}, "method": "", "runtime_s": time.perf_counter() - t0, "figures": [],
                   "error": "".join(traceback.format_exception_only(type(e), e)).strip()}
        results.append(res)
        if progress:
            mark = "✓" if res["verdict"] else "✗"
            print(f"{mark} {res['id']:26s} {res['runtime_s']:6.1f} s  {res.get('error', '')}", flush=True)
    held = sum(r["verdict"] for r in results)
    rows = "\n".join(
        f"<tr><td><a href='#{r['id']}'>{r['id']}</a></td><td>{html.escape(r['title'])}<br><span class=zh>{html.escape(r['title_zh'])}</span></td>"
        f"<td>{html.escape(r['source'])}</td><td class='nw {'ok' if r['verdict'] else 'no'}'>{'holds' if r['verdict'] else 'does not hold'}</td>"
        f"<td class=nw>{r['runtime_s']:.1f} s</td></tr>"
        for r in results
    )
    sections = []
    for r in results:
        figs = []
        for name in r["figures"]:
            data = base64.b64encode((out / r["id"] / name).read_bytes()).decode()
            figs.append(f"<div class=fig><img alt='{html.escape(name)}' title='{html.escape(name)} (click to zoom)' "
                        f"src='data:image/png;base64,{data}'></div>")
        err = f"<p class=no>error: {html.escape(r['error'])}</p>" if r.get("error") else ""
        sections.append(
            f"<section id='{r['id']}'><h2>{html.escape(r['title'])} <span class=zh>{html.escape(r['title_zh'])}</span></h2>"
            f"<p><b>id</b> <code>{r['id']}</code> · <b>source</b> {html.escape(r['source'])} · "
            f"<b>verdict</b> <span class={'ok' if r['verdict'] else 'no'}>{'the claim holds' if r['verdict'] else 'the claim does not hold'}</span>"
            f" · {r['runtime_s']:.1f} s</p><p><b>Claim.</b> {html.escape(r['claim'])}</p>"
            f"<p><b>Method.</b> {html.escape(str(r['method']))}</p>{_checks_html(r.get('checks'))}{err}"
            f"<details><summary>measured</summary>{_measured_html(r['measured'])}</details>"
            + "".join(figs) + "</section>"
        )
    mode = "quick mode" if quick else "full mode"
    page = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>shenjing lab report 实验报告</title><style>{_CSS}</style></head><body>"
        f"<h1>shenjing lab report <span class=zh>实验报告</span></h1>"
        f"<p>{held} of {len(results)} claims hold ({mode}, seed {seed}). Each experiment reproduces a demonstration of the "
        f"lecture notes with shenjing and checks the claim by measurement.</p>"
        f"<table><tr><th>id</th><th>experiment</th><th>source</th><th class=nw>verdict</th><th class=nw>time</th></tr>{rows}</table>"
        f"<p class=hint>Click a figure to see it at full size; click again to fit it to the page.</p>"
        + "".join(sections) + f"<script>{_JS}</script></body></html>"
    )
    from ..files import atomic_write_bytes

    path = out / "report.html"
    atomic_write_bytes(path, page.encode())
    return path
