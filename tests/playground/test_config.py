"""The URL hash: TensorFlow Playground's keys and values, ranges, refusals naming the key."""

from __future__ import annotations

import pytest

from shenjing.playground.config import ConfigError, parse


def test_tf_playground_link_opens_here():
    cfg = parse("#activation=tanh&batchSize=10&dataset=circle&regDataset=reg-plane&learningRate=0.03&regularizationRate=0"
                "&noise=0&networkShape=4,2&seed=0.12345&showTestData=false&discretize=false&percTrainData=50&x=true&y=true"
                "&xTimesY=false&xSquared=false&ySquared=false&cosX=false&sinX=false&cosY=false&sinY=false&collectStats=false"
                "&problem=classification&initZero=false&hideText=false")
    assert (cfg.dataset, cfg.networkShape, cfg.activation, cfg.learningRate, cfg.batchSize) == ("circle", [4, 2], "tanh", 0.03, 10)
    assert cfg.features == ["x", "y"] and cfg.seed == 0


def test_round_trip_and_extra_keys():
    cfg = parse("dataset=spiral&networkShape=8,8,8&activations=relu,tanh,sin&optimizer=adam&epsInside=true&init=zeros&lang=zh")
    assert cfg.layer_activations() == ["relu", "tanh", "sin"] and cfg.optimizer == "adam" and cfg.epsInside
    assert parse(cfg.to_hash()) == cfg


def test_regression_datasets_set_the_problem():
    assert parse("dataset=reg-gauss").problem == "regression"


@pytest.mark.parametrize("hash_text, key", [
    ("learningRate=abc", "learningRate"), ("learningRate=100", "learningRate"), ("batchSize=0", "batchSize"),
    ("networkShape=4,99", "networkShape"), ("networkShape=" + ",".join(["2"] * 9), "networkShape"), ("dataset=moons", "dataset"),
    ("activation=swish", "activation"), ("x=yes", "x"), ("x=false&y=false", "features"), ("networkShape=2,2&activations=relu", "activations"),
    ("noise=80", "noise"), ("regularization=L3", "regularization"),
])
def test_bad_values_are_refused_naming_the_key(hash_text, key):
    with pytest.raises(ConfigError, match=f"^{key}"):
        parse(hash_text)


def test_sixteen_neurons_and_eight_layers_are_allowed():
    assert parse("networkShape=" + ",".join(["16"] * 8)).networkShape == [16] * 8
