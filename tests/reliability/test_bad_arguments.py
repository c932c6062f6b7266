"""Every option is checked where it enters: a value that cannot be honoured is refused with one
line naming the option and exit code 2, before anything is written (the --out folder is not
even created). Checks that need the data (sizes) run on a 600/200-image Fashion-MNIST look-alike.
"""

import re

import pytest
from cli_helpers import fake_fashion, one_line_error, run_main


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fake_fashion(tmp_path_factory.mktemp("args") / "data")


TRAIN = [  # (arguments, the option named, what the message says)
    (["--subset", "-5"], "--subset", "integer ≥ 1"),
    (["--subset", "0"], "--subset", "integer ≥ 1"),
    (["--subset", "501"], "--subset", "between 1 and 500"),
    (["--subset", "1.5"], "--subset", "integer ≥ 1"),
    (["--val-size", "-1"], "--val-size", "integer ≥ 0"),
    (["--val-size", "600"], "--val-size", "between 0 and 599"),
    (["--val-size", "70000"], "--val-size", "between 0 and 599"),
    (["--epochs", "0"], "--epochs", "integer ≥ 1"),
    (["--epochs", "-1"], "--epochs", "integer ≥ 1"),
    (["--lr", "nan"], "--lr", "finite number > 0"),
    (["--lr", "0"], "--lr", "finite number > 0"),
    (["--lr", "-0.1"], "--lr", "finite number > 0"),
    (["--lr", "inf"], "--lr", "finite number > 0"),
    (["--lr", "fast"], "--lr", "finite number > 0"),
    (["--hidden", "0"], "--hidden", "widths ≥ 1"),
    (["--hidden", "64,-1"], "--hidden", "widths ≥ 1"),
    (["--hidden", "a"], "--hidden", "widths ≥ 1"),
    (["--batch-size", "0"], "--batch-size", "integer ≥ 1"),
    (["--optimizer", "sgd", "--momentum", "1"], "--momentum", "< 1"),
    (["--optimizer", "sgd", "--momentum", "-0.5"], "--momentum", "≥ 0"),
    (["--optimizer", "sgd", "--momentum", "nan"], "--momentum", "finite"),
    (["--momentum", "0.5"], "--momentum", "adam has no momentum"),
    (["--dropout", "1"], "--dropout", "< 1"),
    (["--dropout", "-0.1"], "--dropout", "≥ 0"),
    (["--weight-decay", "-1"], "--weight-decay", "≥ 0"),
    (["--weight-decay", "nan"], "--weight-decay", "finite"),
    (["--patience", "-1"], "--patience", "integer ≥ 0"),
    (["--patience", "2", "--val-size", "0"], "--patience", "needs validation samples"),
    (["--seed", "x"], "--seed", "integer from"),
    (["--seed", str(2**64)], "--seed", "integer from"),
    (["--max-loss-growth", "-1"], "--max-loss-growth", "≥ 0"),
    (["--max-loss-growth", "nan"], "--max-loss-growth", "finite"),
    (["--opt", "width"], "--opt", "KEY=VALUE"),
    (["--opt", "=3"], "--opt", "KEY=VALUE"),
    (["--opt", "widht=32"], "--opt", "no option 'widht'"),
    (["--opt", "hidden=32"], "--opt", "use --hidden"),
    (["--model", "cnn", "--opt", "channels=a,b"], "--opt", "model cnn"),
    (["--model", "resnet", "--opt", "width=x"], "--opt", "model resnet"),
    (["--optimizer", "lbfgs"], "--optimizer", "invalid choice"),
    (["--schedule", "step"], "--schedule", "invalid choice"),
    (["--dataset", "cifar"], "--dataset", "unknown dataset 'cifar'"),
    (["--model", "vgg"], "--model", "unknown model 'vgg'"),
    (["--dataset", "segmentation", "--val-size", "1000"], "--val-size", "provides 512 validation samples, not the 1000"),
    (["--dataset", "sort", "--model", "cnn", "--subset", "64"], "--model", "need (C, H, W) inputs"),
    (["--dataset", "addition", "--model", "transformer", "--subset", "64", "--opt", "digits=x"], "--opt", "dataset addition"),
    (["--dataset", "sort", "--model", "transformer", "--opt", "digits=3"], "--opt", "no option 'digits'"),
    (["--lr"], "--lr", "expected one argument"),
    (["--nope"], "--nope", "unrecognized arguments"),
]


@pytest.mark.parametrize("args, option, says", TRAIN, ids=[" ".join(a) for a, _, _ in TRAIN])
def test_bad_train_argument(data, tmp_path, capsys, args, option, says):
    out = tmp_path / "out"
    code, stdout, err = run_main(["train", "--data", data, "--out", out, "--epochs", "1", "--val-size", "100", "--quiet", *args], capsys)
    assert code == 2
    line = one_line_error(err)
    assert re.match(r"shenjing( train)?: error: ", line) and option in line and says in line, line
    assert not out.exists()


def test_out_and_data_must_be_folders(data, tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    for argv, says in (
        (["train", "--data", data, "--out", f], f"argument --out: {f} is a file, not a folder"),
        (["train", "--data", data, "--out", f / "sub"], f"argument --out: {f} is a file, not a folder"),
        (["train", "--data", tmp_path / "none", "--out", tmp_path / "o"], "argument --data: folder"),
        (["train", "--data", f, "--out", tmp_path / "o"], "argument --data: "),
        (["evaluate", "x.safetensors", "--data", tmp_path / "none"], "argument --data: folder"),
        (["lab", "run", "xor", "--out", f], "argument --out: "),
    ):
        code, _, err = run_main(argv, capsys)
        assert code == 2 and says in one_line_error(err)
    assert f.read_text() == "x" and not (tmp_path / "o").exists()


@pytest.mark.parametrize("argv, says", [
    ([], "the following arguments are required: command"),
    (["fly"], "invalid choice: 'fly'"),
    (["lab"], "the following arguments are required: lab_command"),
    (["lab", "run", "no-such-experiment"], "argument id: unknown lab experiment 'no-such-experiment'"),
    (["lab", "run", "xor", "--seed", "x"], "argument --seed"),
    (["evaluate"], "the following arguments are required: checkpoint"),
])
def test_bad_command(argv, says, capsys, tmp_path):
    code, _, err = run_main(argv, capsys)
    assert code == 2 and says in one_line_error(err)
