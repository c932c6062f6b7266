"""nn.utils: gradient clipping, parameter counting and other helpers."""

from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .counting import (
    activation_patterns,
    count_linear_pieces_1d,
    count_linear_regions_1d,
    count_linear_regions_2d,
    count_parameters,
    deep_max_regions_1d,
    deep_net_parameters,
    format_parameter_table,
    mlp_parameters,
    parameter_table,
    shallow_max_regions,
    shallow_net_parameters,
    zaslavsky_bound,
)
from .importance import feature_importance, importance_table, input_gradients, rank_features
from .receptive_field import (
    RFLayer,
    check_parameter_counts,
    conv_output_size,
    conv_parameters,
    format_receptive_field,
    layer_specs,
    parameter_formula,
    receptive_field,
)
from .stats import LayerStats, tensor_stats
