"""Risk-weighted sampling of merchants for mystery-shopper audits (issue 14). Pure: no Flask app, no database.

Each active merchant gets a weight from what is known of it this quarter; the operator's "schedule N audits"
draws N distinct merchants, each draw proportional to the weights of those not drawn yet. Every active merchant
has a weight of at least ``BASE`` (1), so each has a non-zero chance every quarter.

=====================  =========================================================================================
term                   added to the weight
=====================  =========================================================================================
base                   1 for every active merchant
low score              (70 - score) / 10 when the integrity score is below 70 (up to +7 at 0); a "new"
                       merchant without a number adds nothing here (it has its own term)
falling score          the drop over the last 30 days / 5 when the score fell (a 10-point fall adds 2),
                       capped at +4
recent disputes        1 per dispute opened in the last 90 days, capped at +5
new merchant           +2 when the merchant has been active for fewer than 90 days
=====================  =========================================================================================

The random source is ``random.Random(seed)``: the same seed and the same merchants give the same picks.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

BASE = 1.0
LOW_SCORE_BELOW = 70.0
FALL_CAP = 4.0
DISPUTES_CAP = 5.0
NEW_MERCHANT_DAYS = 90
NEW_MERCHANT_BONUS = 2.0


@dataclass(frozen=True)
class MerchantRisk:
    """What the sampling knows of one active merchant."""

    business_id: int
    score: float | None = None
    score_30_days_ago: float | None = None
    disputes_90_days: int = 0
    days_active: int = 365


def weight(risk: MerchantRisk) -> float:
    """The merchant's sampling weight (see the module's table); always at least ``BASE``."""
    total = BASE
    if risk.score is not None and risk.score < LOW_SCORE_BELOW:
        total += (LOW_SCORE_BELOW - max(risk.score, 0.0)) / 10
    if risk.score is not None and risk.score_30_days_ago is not None and risk.score < risk.score_30_days_ago:
        total += min((risk.score_30_days_ago - risk.score) / 5, FALL_CAP)
    total += min(max(risk.disputes_90_days, 0), DISPUTES_CAP)
    if risk.days_active < NEW_MERCHANT_DAYS:
        total += NEW_MERCHANT_BONUS
    return total


def sample(risks: list[MerchantRisk], count: int, seed: int | str | None = None,
           rng: random.Random | None = None) -> list[int]:
    """Pick ``count`` distinct business ids (all of them when fewer), each draw proportional to the weights.

    Pass ``seed`` (e.g. the quarter, "2026Q4") or an ``rng`` for reproducible picks.
    """
    rng = rng if rng is not None else random.Random(seed)
    pool = sorted(risks, key=lambda risk: risk.business_id)
    weights = [weight(risk) for risk in pool]
    picked: list[int] = []
    while pool and len(picked) < count:
        point = rng.random() * sum(weights)
        index = 0
        while index < len(weights) - 1 and point >= weights[index]:
            point -= weights[index]
            index += 1
        picked.append(pool.pop(index).business_id)
        weights.pop(index)
    return picked
