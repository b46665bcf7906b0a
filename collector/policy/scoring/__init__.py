"""kitlife scoring: pure judgement of a device's own data against cited thresholds.

Public API::

    score_device(history, *, horizon_months=24, now=None, role_fit=None,
                 catalogue=None, thresholds=None) -> DeviceAssessment
    score_fleet(histories, ...) -> list[DeviceAssessment]
    iter_scores(histories, ...) -> Iterator[DeviceAssessment]   the same, streamed
    DeviceHistory, DailySeries               the input model
    DeviceAssessment, ComponentAssessment, Horizon, Repair, Footprint, Reason,
    Status, Action                           the output (``to_dict()`` is JSON-ready)
    load_thresholds, parse_thresholds_csv, Thresholds, Threshold
    load_catalogue, parse_catalogue_csv, Catalogue, Part
    theil_sen, fit_trend, Trend              the robust trend
    ScoringError, ThresholdsError, CatalogueError

No IO beyond reading the packaged data files; no database, no network.
"""

from kitlife.collector.policy.errors import CatalogueError, ScoringError, ThresholdsError
from kitlife.collector.policy.scoring.catalogue import (
    Catalogue,
    Part,
    load_catalogue,
    parse_catalogue_csv,
)
from kitlife.collector.policy.scoring.history import DailySeries, DeviceHistory
from kitlife.collector.policy.scoring.results import (
    Action,
    ComponentAssessment,
    DeviceAssessment,
    Footprint,
    Horizon,
    Reason,
    Repair,
    Status,
)
from kitlife.collector.policy.scoring.score import iter_scores, score_device, score_fleet
from kitlife.collector.policy.scoring.thresholds import (
    Threshold,
    Thresholds,
    load_thresholds,
    parse_thresholds_csv,
)
from kitlife.collector.policy.scoring.trend import Trend, fit_trend, theil_sen

__all__ = [
    "Action",
    "Catalogue",
    "CatalogueError",
    "ComponentAssessment",
    "DailySeries",
    "DeviceAssessment",
    "DeviceHistory",
    "Footprint",
    "Horizon",
    "Part",
    "Reason",
    "Repair",
    "ScoringError",
    "Status",
    "Threshold",
    "Thresholds",
    "ThresholdsError",
    "Trend",
    "fit_trend",
    "iter_scores",
    "load_catalogue",
    "load_thresholds",
    "parse_catalogue_csv",
    "parse_thresholds_csv",
    "score_device",
    "score_fleet",
    "theil_sen",
]
