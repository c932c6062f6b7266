"""The layers' docstrings carry PyTorch-style ``Shape:`` and ``Examples:`` sections, and every
example runs and prints what its docstring says (doctest, with ``sj`` = shenjing and ``nn``)."""

import doctest
import inspect

import pytest

import shenjing
from shenjing import nn
from shenjing.nn import activation, attention, conv, layers, loss, residual, transformer

MODULES = [layers, conv, activation, attention, transformer, residual, loss]
CLASSES = [(m.__name__, name) for m in MODULES for name in m.__all__ if inspect.isclass(getattr(m, name))
           and issubclass(getattr(m, name), nn.Module)]


@pytest.mark.parametrize("module, name", CLASSES)
def test_layer_docstring_has_shape_and_examples(module, name):
    doc = inspect.getdoc(getattr(__import__(module, fromlist=[name]), name)) or ""
    assert "\nShape:\n" in doc and "\nExamples:\n    >>> " in doc, f"{module}.{name}: add the Shape: and Examples: sections"


@pytest.mark.parametrize("module", MODULES, ids=[m.__name__ for m in MODULES])
def test_docstring_examples_run(module):
    shenjing.manual_seed(0)
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    tests = [t for t in finder.find(module, globs={"sj": shenjing, "nn": nn}) if t.examples]
    assert tests
    for t in tests:
        runner.run(t)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {module.__name__} (see the output above)"
