"""Chinese output (中文输出): --lang zh|en, the locale as default, Chinese lab results, reports and CLI messages."""

import json
import subprocess

import pytest
from cli_helpers import CLI, cli_env, one_line_error, run_main

from shenjing import cli
from shenjing.i18n import default_lang, lang_in_argv
from shenjing.lab import load_all, run_experiment
from shenjing.lab.report import build_report

FAST = "threshold-logic"  # about a second in quick mode


@pytest.mark.parametrize("env, lang", [
    ({}, "en"), ({"LANG": "zh_CN.UTF-8"}, "zh"), ({"LANG": "en_US.UTF-8"}, "en"), ({"LANG": "zh_TW.UTF-8"}, "zh"),
    ({"LC_ALL": "C.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"), ({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
    ({"LC_MESSAGES": "zh_CN", "LANG": "C"}, "zh"), ({"LC_ALL": "", "LANG": "zh_SG"}, "zh"),
])
def test_the_locale_decides_the_default(env, lang):
    assert default_lang(env) == lang


def test_lang_on_the_command_line_wins():
    zh = {"LANG": "zh_CN.UTF-8"}
    assert lang_in_argv(["lab", "list", "--lang", "en"], zh) == "en"
    assert lang_in_argv(["lab", "list", "--lang=zh"], {}) == "zh"
    assert lang_in_argv(["lab", "list"], zh) == "zh"
    assert lang_in_argv(["lab", "list", "--lang", "fr"], zh) == "en"  # refused by the parser, in English


def test_usage_errors_in_chinese(capsys):
    code, _, err = run_main(["train", "--lr", "nan", "--lang", "zh"], capsys)
    assert code == cli.EXIT_USAGE and one_line_error(err) == "shenjing train: 错误: 参数 --lr: 必须是 > 0 的有限数, 实际为 'nan'"
    code, _, err = run_main(["train", "--epochs", "0", "--lang", "zh"], capsys)
    assert one_line_error(err) == "shenjing train: 错误: 参数 --epochs: 必须是 ≥ 1 的整数, 实际为 '0'"
    code, _, err = run_main(["train", "--optimizer", "lbfgs", "--lang", "zh"], capsys)
    assert code == cli.EXIT_USAGE and "无效的选择: 'lbfgs' (可选: " in one_line_error(err)
    code, _, err = run_main(["lab", "run", "--lang", "zh"], capsys)
    assert one_line_error(err) == "shenjing lab run: 错误: 缺少必需的参数: id"
    code, _, err = run_main(["train", "--lang", "fr"], capsys)
    assert code == cli.EXIT_USAGE and "argument --lang: invalid choice: 'fr'" in one_line_error(err)


def test_failures_say_their_kind_in_chinese(capsys, tmp_path):
    code, _, err = run_main(["lab", "run", "no-such-experiment", "--lang", "zh"], capsys)
    assert code == cli.EXIT_USAGE
    assert one_line_error(err).startswith("shenjing lab run: 错误 (用法错误): 参数 id: unknown lab experiment 'no-such-experiment'")
    code, _, err = run_main(["evaluate", str(tmp_path / "none.safetensors"), "--lang", "zh"], capsys)
    assert code == cli.EXIT_INPUT and one_line_error(err).startswith("shenjing evaluate: 错误 (输入文件缺失或损坏): ")


def test_help_epilog_follows_the_locale():
    r = subprocess.run(CLI + ["--help"], capture_output=True, text=True, env=cli_env(LC_ALL="zh_CN.UTF-8"))
    assert r.returncode == 0 and "退出码:" in r.stdout and "神经 shenjing: 训练、评估与检查模型." in r.stdout
    for code, what in cli.EXIT_CODES_ZH.items():
        assert f"{code:>3}  {what}" in r.stdout
    r = subprocess.run(CLI + ["--help", "--lang", "en"], capture_output=True, text=True, env=cli_env(LC_ALL="zh_CN.UTF-8"))
    assert "exit codes:" in r.stdout and "退出码" not in r.stdout
    assert set(cli.EXIT_CODES_ZH) == set(cli.EXIT_CODES)


def test_lab_list_in_chinese(capsys):
    code, out, _ = run_main(["lab", "list", "--lang", "zh"], capsys)
    exps = load_all()
    lines = out.splitlines()
    assert code == 0 and lines[-1] == f"{len(exps)} 个实验"
    first = next(iter(exps.values()))
    assert lines[0].split(None, 1)[1].startswith(f"{first.title_zh}  ({first.title})")


def test_lab_run_and_result_in_chinese(capsys, tmp_path):
    code, out, _ = run_main(["lab", "run", FAST, "--quick", "--out", tmp_path, "--lang", "zh"], capsys)
    res = json.loads((tmp_path / FAST / "result.json").read_text())
    exp = load_all()[FAST]
    assert code == 0 and out.startswith(f"{FAST}: {exp.claim_zh}\n  结论: 论断成立 (成立条件: ")
    assert res["claim_zh"] == exp.claim_zh and res["claim"] == exp.claim
    assert res["method_zh"] == "成立条件: " + "; ".join(c["says_zh"] for c in res["checks"]) + "。"
    assert [c["says_zh"] for c in res["checks"]] == [c.sentence(True, "zh") for c in exp.checks]
    code, out, _ = run_main(["lab", "run", FAST, "--quick", "--out", tmp_path, "--lang", "en"], capsys)
    assert out.startswith(f"{FAST}: {exp.claim}\n  verdict: the claim holds (")


def test_report_in_chinese(tmp_path):
    page = build_report(tmp_path, quick=True, ids=[FAST], progress=False, lang="zh").read_text()
    exp = load_all()[FAST]
    assert "<html lang=zh-CN>" in page and "shenjing 实验报告" in page and "1 个论断中 1 个成立 (快速模式, 随机种子 0)" in page
    assert exp.claim_zh in page and "<b>论断.</b>" in page and "论断成立" in page and "成立条件: " in page
    assert exp.claim not in page  # the English claim is not on the Chinese page
    en = build_report(tmp_path / "en", quick=True, ids=[FAST], progress=False).read_text()
    assert "<html lang=en>" in en and exp.claim in en and exp.claim_zh not in en


def test_every_experiment_states_its_claim_in_chinese():
    for e in load_all().values():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in e.claim_zh), f"{e.id}: add claim_zh=\"…\" (the claim in Chinese) to its Experiment"
        for c in e.checks:
            assert c.what_zh, f"{e.id}: add what_zh=\"…\" (its wording in Chinese) to Check({c.key!r}, …)"


def test_a_check_in_chinese():
    from shenjing.lab import Check

    assert Check("acc", ">=", 0.95, "the accuracy", what_zh="准确率").sentence(lang="zh") == "准确率 ≥ 0.95"
    assert Check("acc", ">=", 0.95, "the accuracy", quick=0.9).sentence(True, "zh") == "测得的 acc ≥ 0.9"
    assert Check("ok", "true", what="exact", what_zh="真值表完全一致").sentence(lang="zh") == "真值表完全一致"
    assert Check("ok", "true", what="exact").sentence(lang="zh") == "测得的 ok 为真"


def test_run_experiment_writes_both_languages(tmp_path):
    res = run_experiment(FAST, tmp_path, quick=True)
    assert {"claim_zh", "method_zh"} <= set(res) and res["method_zh"].startswith("成立条件: ")
