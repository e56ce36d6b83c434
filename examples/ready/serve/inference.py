"""SageMaker inference handler: features in, churn probability out. Raw requests are never logged."""

from __future__ import annotations

import json
import logging

logger = logging.getLogger(__name__)
FEATURES = ["sessions_30d", "tickets_30d", "spend_30d", "days_since_last_login"]


def input_fn(body: str, content_type: str) -> list[list[float]]:
    records = json.loads(body)["instances"]
    logger.info("scoring %d records", len(records))
    return [[float(r[name]) for name in FEATURES] for r in records]


def predict_fn(rows: list[list[float]], model) -> list[float]:  # type: ignore[no-untyped-def]
    return [float(p) for p in model.predict_proba(rows)[:, 1]]
