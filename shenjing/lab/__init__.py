"""The lab (实验室): the notes' demonstrations as experiments with measured verdicts."""

from .core import ORDER, REGISTRY, Context, Experiment, catalogue_markdown, experiment, load_all, run_experiment
from .report import build_report
