"""The lab (实验室): the notes' demonstrations as experiments with measured verdicts (docs/lab.md)."""

from .core import (
    ORDER,
    Check,
    Context,
    Experiment,
    Measurement,
    catalogue_markdown,
    jsonable,
    judge,
    load_all,
    min_seconds,
    missing_data,
    run_experiment,
    single_threaded_blas,
)
from .report import build_report, report_result, write_report
