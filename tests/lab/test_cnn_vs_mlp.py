"""Spot checks of the cnn-vs-mlp experiment: the models it compares and their parameter counts."""

from shenjing.nn.utils import count_parameters
from shenjing.train.registry import build_model


def test_the_cnn_has_far_fewer_parameters_than_the_mlps():
    cnn = build_model("cnn", (1, 28, 28), 10, channels=(16, 32), convs=1, dropout=0.0)
    # conv 1·16·9 + BN 2·16 + conv 16·32·9 + BN 2·32 + Linear 32·7·7·10 + 10 (convolutions without bias before BN)
    assert count_parameters(cnn) == 144 + 32 + 4608 + 64 + 15690 == 20538
    assert count_parameters(build_model("mlp", (1, 28, 28), 10, hidden=(512, 512))) == 785 * 512 + 513 * 512 + 513 * 10 == 669706
    assert count_parameters(build_model("mlp", (1, 28, 28), 10, hidden=(64,))) == 785 * 64 + 65 * 10 == 50890
