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


#: the words of the page, in English and in Chinese
_WORDS = {
    "en": {"title": "shenjing lab report", "sub": "实验报告", "held": "{held} of {n} claims hold ({mode}, seed {seed}).",
           "intro": "Each experiment reproduces a demonstration of the lecture notes with shenjing and checks the claim by measurement.",
           "quick": "quick mode", "full": "full mode", "experiment": "experiment", "source": "source", "verdict": "verdict",
           "time": "time", "holds": "holds", "fails": "does not hold", "claim_holds": "the claim holds",
           "claim_fails": "the claim does not hold", "claim": "Claim.", "method": "Method.", "check": "check",
           "measured": "measured", "error": "error", "zoom": "Click a figure to see it at full size; click again to fit it to the page.",
           "click": "click to zoom"},
    "zh": {"title": "shenjing 实验报告", "sub": "lab report", "held": "{n} 个论断中 {held} 个成立 ({mode}, 随机种子 {seed}).",
           "intro": "每个实验用 shenjing 重现讲义中的一个演示, 并以测量检验其论断.",
           "quick": "快速模式", "full": "完整模式", "experiment": "实验", "source": "出处", "verdict": "结论",
           "time": "用时", "holds": "成立", "fails": "不成立", "claim_holds": "论断成立",
           "claim_fails": "论断不成立", "claim": "论断.", "method": "方法.", "check": "检验",
           "measured": "测得值", "error": "错误", "zoom": "点击图片查看原始大小; 再次点击使其适应页面宽度.", "click": "点击放大"},
}


def _measured_html(measured) -> str:
    text = json.dumps(measured, indent=1, ensure_ascii=False)
    if len(text) > 4000:
        text = text[:4000] + "\n…"
    return f"<pre>{html.escape(text)}</pre>"


def _checks_html(checks, lang: str = "en") -> str:
    """One row per check: what was required, what was measured, and whether it held."""
    if not checks:
        return ""
    says = "says_zh" if lang == "zh" else "says"
    rows = "".join(
        f"<tr><td class={'ok' if c['holds'] else 'no'}>{'✓' if c['holds'] else '✗'}</td><td>{html.escape(c.get(says) or c['says'])}</td>"
        f"<td><code>{html.escape(c['key'])}</code> = {html.escape(_short(c['value']))}</td></tr>"
        for c in checks
    )
    w = _WORDS[lang]
    return f"<table class=checks><tr><th></th><th>{w['check']}</th><th>{w['measured']}</th></tr>{rows}</table>"


def _short(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "…"


def _pair(r: dict, lang: str, key: str) -> tuple[str, str]:
    """(text in the page's language, the other language's) of ``r[key]``/``r[key_zh]``; English when the Chinese is missing."""
    en, zh = str(r.get(key, "")), str(r.get(f"{key}_zh") or "")
    return (zh, en) if lang == "zh" and zh else (en, zh)


def _section(r: dict, out: Path, lang: str) -> str:
    """One experiment: title, verdict, claim, method, checks, measured values and figures."""
    w = _WORDS[lang]
    figs = []
    for name in r["figures"]:
        data = base64.b64encode((out / r["id"] / name).read_bytes()).decode()
        figs.append(f"<div class=fig><img alt='{html.escape(name)}' title='{html.escape(name)} ({w['click']})' "
                    f"src='data:image/png;base64,{data}'></div>")
    err = f"<p class=no>{w['error']}: {html.escape(r['error'])}</p>" if r.get("error") else ""
    title, other = _pair(r, lang, "title")
    claim, method = _pair(r, lang, "claim")[0], _pair(r, lang, "method")[0]
    return (
        f"<section id='{r['id']}'><h2>{html.escape(title)} <span class=zh>{html.escape(other)}</span></h2>"
        f"<p><b>id</b> <code>{r['id']}</code> · <b>{w['source']}</b> {html.escape(r['source'])} · "
        f"<b>{w['verdict']}</b> <span class={'ok' if r['verdict'] else 'no'}>{w['claim_holds'] if r['verdict'] else w['claim_fails']}</span>"
        f" · {r['runtime_s']:.1f} s</p><p><b>{w['claim']}</b> {html.escape(claim)}</p>"
        f"<p><b>{w['method']}</b> {html.escape(method)}</p>{_checks_html(r.get('checks'), lang)}{err}"
        f"<details><summary>{w['measured']}</summary>{_measured_html(r['measured'])}</details>"
        + "".join(figs) + "</section>"
    )


def _page(results: list[dict], out: Path, quick: bool, seed: int, lang: str) -> str:
    w = _WORDS[lang]
    held = sum(r["verdict"] for r in results)
    rows = "\n".join(
        f"<tr><td><a href='#{r['id']}'>{r['id']}</a></td><td>{html.escape(_pair(r, lang, 'title')[0])}<br>"
        f"<span class=zh>{html.escape(_pair(r, lang, 'title')[1])}</span></td>"
        f"<td>{html.escape(r['source'])}</td><td class='nw {'ok' if r['verdict'] else 'no'}'>{w['holds'] if r['verdict'] else w['fails']}</td>"
        f"<td class=nw>{r['runtime_s']:.1f} s</td></tr>"
        for r in results
    )
    summary = w["held"].format(held=held, n=len(results), mode=w["quick" if quick else "full"], seed=seed)
    return (
        f"<!doctype html><html lang={'zh-CN' if lang == 'zh' else 'en'}><head><meta charset=utf-8><title>{w['title']} {w['sub']}</title>"
        f"<style>{_CSS}</style></head><body><h1>{w['title']} <span class=zh>{w['sub']}</span></h1>"
        f"<p>{summary} {w['intro']}</p>"
        f"<table><tr><th>id</th><th>{w['experiment']}</th><th>{w['source']}</th><th class=nw>{w['verdict']}</th><th class=nw>{w['time']}</th></tr>"
        f"{rows}</table><p class=hint>{w['zoom']}</p>"
        + "".join(_section(r, out, lang) for r in results) + f"<script>{_JS}</script></body></html>"
    )


def report_result(exp_id: str, out_dir: str | Path = "lab-out", quick: bool = False, seed: int = 0, progress: bool = True) -> dict:
    """Run one experiment for the report: its result, or for one that crashes a false verdict with the
    error (reported, not hidden); with ``progress`` one line: ✓ or ✗, the id, the runtime."""
    exp = load_all()[exp_id]
    t0 = time.perf_counter()
    try:
        res = run_experiment(exp_id, out_dir, quick=quick, seed=seed)
    except Exception as e:
        res = {"id": exp.id, "title": exp.title, "title_zh": exp.title_zh, "source": exp.source, "claim": exp.claim,
               "claim_zh": exp.claim_zh, "verdict": False, "measured": {}, "method": "", "runtime_s": time.perf_counter() - t0,
               "figures": [], "error": "".join(traceback.format_exception_only(type(e), e)).strip()}
    if progress:
        mark = "✓" if res["verdict"] else "✗"
        print(f"{mark} {res['id']:26s} {res['runtime_s']:6.1f} s  {res.get('error', '')}", flush=True)
    return res


def write_report(results: list[dict], out_dir: str | Path = "lab-out", quick: bool = False, seed: int = 0, lang: str = "en") -> Path:
    """Write ``out_dir/report.html`` (English, or Chinese with ``lang="zh"``) from the experiments' results
    and the figures beside them; returns its path."""
    from ..files import atomic_write_bytes

    path = Path(out_dir) / "report.html"
    atomic_write_bytes(path, _page(results, Path(out_dir), quick, seed, lang).encode())
    return path


def build_report(out_dir: str | Path = "lab-out", quick: bool = False, seed: int = 0, ids=None, progress: bool = True,
                 lang: str = "en") -> Path:
    """Run the experiments (all, or ``ids``) and write ``out_dir/report.html`` in English or
    (``lang="zh"``) in Chinese; returns its path."""
    results = [report_result(i, out_dir, quick, seed, progress) for i in ids or list(load_all())]
    return write_report(results, out_dir, quick, seed, lang)
