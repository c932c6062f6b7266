"""The ``shenjing train`` registries: the tables, options parsing, and the one-way imports
(registry → zoo/sequence → task, never back)."""

import ast
import inspect

import pytest

from shenjing.train import registry, sequence, task, zoo


def _imported_modules(module) -> set:
    found = set()
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.ImportFrom):
            found.add(node.module or "")
            found.update(f"{node.module or ''}.{a.name}".lstrip(".") for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


@pytest.mark.parametrize("module", [zoo, sequence, task])
def test_builders_do_not_import_the_registry(module):
    assert not any("registry" in name for name in _imported_modules(module))


def test_tables_hold_every_builtin():
    assert list(registry.MODELS) == ["mlp", "cnn", "lenet", "resnet", "densenet", "unet", "transformer"]
    assert list(registry.DATASETS) == ["fashion-mnist", "mnist", "segmentation", "sort", "reverse", "copy", "addition"]
    assert registry.MODELS["cnn"] is zoo.cnn_model and registry.DATASETS["segmentation"] is zoo.segmentation_task
    with pytest.raises(ValueError, match="unknown model 'nope'; available: cnn, densenet"):
        registry.build_model("nope", (1, 28, 28), 10)
    with pytest.raises(ValueError, match="unknown dataset 'nope'"):
        registry.build_task("nope", {})


def test_register_adds_to_the_tables():
    try:
        @registry.register_model("tiny")
        def tiny(input_shape, num_classes, **_):
            return ("tiny", input_shape, num_classes)

        @registry.register_dataset("tiny-data")
        def tiny_data(cfg, root=None):
            return ("tiny-data", cfg, root)

        assert registry.build_model("tiny", [3], 2) == ("tiny", (3,), 2)
        assert registry.build_task("tiny-data", {"seed": 1}, "here") == ("tiny-data", {"seed": 1}, "here")
    finally:
        registry.MODELS.pop("tiny", None)
        registry.DATASETS.pop("tiny-data", None)


def test_options():
    assert task.parse_options(["width=32", "scale=0.5", "batch-norm=false", "up=bilinear"]) == \
        {"width": 32, "scale": 0.5, "batch_norm": False, "up": "bilinear"}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        task.parse_options(["width"])
    assert task.int_tuple("32,64") == task.int_tuple("32x64") == task.int_tuple([32, "64"]) == (32, 64)
    assert task.int_tuple(3) == (3,)
    assert registry.parse_options is task.parse_options and registry.Task is task.Task
