"""The integrity score on pages: template globals for the public card (store and experience pages) and the
merchant's weekly chart (server-side SVG). No routes of its own: the JSON is /api/v1/businesses/<id>/integrity."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from trust import score as formula
from trust import services

bp = Blueprint("trust_integrity", __name__)

CHART_W, CHART_H, CHART_PAD = 320, 90, 6


@bp.app_template_global()
def integrity_for(business_id: int) -> services.IntegrityView:
    """A merchant's stored score and parts, for the public card."""
    return services.integrity_of(business_id)


@bp.app_template_global()
def integrity_label(key: str) -> str:
    """A part's name in the request's language."""
    return formula.label(key)


@bp.app_template_global()
def integrity_chart(business_id: int, weeks: int = 26) -> dict[str, Any]:
    """The score per week as SVG coordinates (0-100 upwards), with what moved it each week."""
    history = services.integrity_history(business_id, weeks)
    step = (CHART_W - 2 * CHART_PAD) / max(len(history) - 1, 1)
    points = []
    for index, week in enumerate(history):
        if week["score"] is None:
            continue
        x = CHART_PAD + index * step
        y = CHART_PAD + (100 - week["score"]) * (CHART_H - 2 * CHART_PAD) / 100
        points.append({"x": round(x, 1), "y": round(y, 1), **week})
    return {"width": CHART_W, "height": CHART_H, "history": history, "points": points,
            "polyline": " ".join(f"{p['x']},{p['y']}" for p in points),
            "moves": [w for w in history if w["moves"]][-5:][::-1]}
