"""The merchant integrity score: one formula, the same everywhere it is shown (store, experience, dashboard, API).

Pure functions over counts: no Flask app, no database. ``trust.services.integrity`` gathers the counts from
the rows (a rolling window of ``WINDOW_DAYS``) and stores what :func:`compute` returns.

A score is 0-100, the sum of seven parts. Each part is scored 0-100 and weighs what the table says; a part
with no data yet is at its neutral value (full marks, or the category's average for reviews), so a merchant
is never punished for an absence of evidence:

==================  ======  ==============================================================================
part                weight  how its 0-100 is made (over the last 90 days)
==================  ======  ==============================================================================
disputes              25    upheld disputes per visit, weighted by reason (safety or hygiene 2, charged more
                            than listed 1.5, not as described 1, cancelled late 1, other 0.5; turn-aways and
                            no-show marks count in their own part). Wilson lower bound of the weighted rate;
                            0 at 5 %.
no_shows              20    turn-aways and overturned no-show marks (upheld ``turned_away`` and
                            ``wrongly_marked_no_show`` disputes) per visit, Wilson lower bound; 0 at 3 %.
cancellations         15    bookings the store cancelled (1) or declined (0.5) per booking made in the
                            window, Wilson lower bound; 0 at 20 %. Bookings an operator cancelled (a
                            suspension cancels the merchant's future bookings) are not the store's own.
reviews               15    the three detailed averages (as described, service, value) against the
                            category's: 80 at the average, +40 per star above, -40 per star below. The
                            merchant's averages are shrunk towards the category's with 10 reviews' worth of
                            prior, so two reviews move it little.
response_time         10    median time from a dispute's opening to the store's answer (unanswered ones,
                            escalated by the sweep, count as 72 h): 100 up to 12 h, 0 from 48 h. Three
                            disputes' worth of prior at full marks. When residents wrote to the store
                            (app/conversations), the part is the mean of that and the messages' own score:
                            median time to the store's first reply in each thread first answered in the
                            window (threads waiting over 24 h count as 24 h): 100 up to 1 h, 0 from 24 h,
                            five threads' worth of prior at full marks. No threads: disputes only.
review_fraud          10    review-fraud strikes: days on which reviews of its stores were held as a burst or
                            as same-day accounts' (and not released): -25 each.
audits                 5    failed mystery-shopper audits decided in the window (trust/models_audits.py):
                            -50 each; with no audits decided the part stays at 100.
==================  ======  ==============================================================================

Few data never make a score swing: every rate is a Wilson lower bound (z = 1.96) of the bad events' share, so
one upheld dispute in five visits costs far less than 20 %, and the non-rate parts carry priors. Below
``MIN_VISITS`` visits in the window the merchant is "new": the parts so far are shown, not a number.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from statistics import median
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

WINDOW_DAYS = 90
MIN_VISITS = 10  # fewer visits in the window: "new" (setting INTEGRITY_MIN_VISITS)
WARN_BELOW = 60  # below: the merchant is warned, at most once a week (setting INTEGRITY_WARN_BELOW)
HIDE_BELOW = 40  # below: its experiences leave "Best match" (setting INTEGRITY_HIDE_BELOW)
Z = 1.96

WEIGHTS: dict[str, int] = {"disputes": 25, "no_shows": 20, "cancellations": 15, "reviews": 15,
                           "response_time": 10, "review_fraud": 10, "audits": 5}
assert sum(WEIGHTS.values()) == 100

# Upheld disputes by reason (the two no-show reasons count in the ``no_shows`` part instead).
REASON_WEIGHTS: dict[str, float] = {"safety_or_hygiene": 2.0, "charged_more_than_listed": 1.5,
                                    "not_as_described": 1.0, "merchant_cancelled_late": 1.0, "other": 0.5}
NO_SHOW_REASONS = ("turned_away", "wrongly_marked_no_show")
DISPUTES_ZERO_AT = 0.05
NO_SHOWS_ZERO_AT = 0.03
CANCELLATIONS_ZERO_AT = 0.20
REJECTED_WEIGHT = 0.5
REVIEWS_PRIOR = 10  # reviews' worth of the category's averages
REVIEWS_AT_AVERAGE = 80.0
REVIEWS_PER_STAR = 40.0
RESPONSE_FULL_H = 12.0
RESPONSE_ZERO_H = 48.0
UNANSWERED_H = 72.0
RESPONSE_PRIOR = 3
MESSAGE_FULL_H = 1.0  # messages: the first reply within an hour is full marks
MESSAGE_ZERO_H = 24.0  # ... after a day, none; a thread waiting longer counts as this
MESSAGE_PRIOR = 5
STRIKE_COST = 25.0
FAILED_AUDIT_COST = 50.0
DETAILS = ("described", "service", "value")


@dataclass(frozen=True)
class Counts:
    """What happened at one merchant (all its stores) in the window."""

    visits: int = 0  # bookings checked in (or completed) whose slot started in the window
    bookings: int = 0  # bookings made in the window
    cancelled_by_merchant: int = 0  # of those, cancelled by the store
    rejected: int = 0  # of those, declined by the store
    upheld: Mapping[str, int] = field(default_factory=dict)  # upheld in the window, by reason
    response_hours: tuple[float, ...] = ()  # each dispute the store answered: hours from opening to answer
    unanswered: int = 0  # disputes escalated because the store did not answer in time
    message_hours: tuple[float, ...] = ()  # each thread first answered in the window: hours to the first reply
    messages_waiting: int = 0  # threads waiting for the store's first reply for over MESSAGE_ZERO_H
    reviews: int = 0  # published reviews in the window
    detail: Mapping[str, float] = field(default_factory=dict)  # its averages: described, service, value
    category_detail: Mapping[str, float] = field(default_factory=dict)  # the category's averages
    fraud_strikes: int = 0
    audits: int = 0
    failed_audits: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Counts:
        known = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        for key in ("response_hours", "message_hours"):
            if key in known:
                known[key] = tuple(known[key])
        return cls(**known)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["upheld"], data["detail"] = dict(self.upheld), dict(self.detail)
        data["category_detail"], data["response_hours"] = dict(self.category_detail), list(self.response_hours)
        data["message_hours"] = list(self.message_hours)
        return data


@dataclass(frozen=True)
class Part:
    key: str
    weight: int
    score: float  # 0-100
    data: dict[str, Any]  # the figures its reason line is written from

    @property
    def points(self) -> float:
        """What the part adds to the score (0 to its weight)."""
        return self.weight * self.score / 100.0

    @property
    def reason(self) -> str:
        return reason(self.key, self.data)


@dataclass(frozen=True)
class Integrity:
    score: int | None  # None: "new" (fewer than min_visits visits)
    visits: int
    parts: list[Part]

    @property
    def is_new(self) -> bool:
        return self.score is None


def wilson_lower(k: float, n: float, z: float = Z) -> float:
    """The lower bound of the Wilson score interval for k events in n trials (0 when n is 0)."""
    if n <= 0:
        return 0.0
    k = min(max(k, 0.0), n)
    p = k / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, (centre - margin) / (1 + z2 / n))


def _rate_part(k: float, n: float, zero_at: float) -> float:
    return 100.0 * max(0.0, 1.0 - wilson_lower(k, n) / zero_at)


def _clamp(value: float) -> float:
    return max(0.0, min(100.0, value))


def disputes_part(c: Counts) -> Part:
    weighted = sum(REASON_WEIGHTS.get(reason, REASON_WEIGHTS["other"]) * n
                   for reason, n in c.upheld.items() if reason not in NO_SHOW_REASONS)
    count = sum(n for reason, n in c.upheld.items() if reason not in NO_SHOW_REASONS)
    trials = max(c.visits, count)
    by_reason = {reason: n for reason, n in sorted(c.upheld.items()) if reason not in NO_SHOW_REASONS and n}
    return Part("disputes", WEIGHTS["disputes"], _rate_part(weighted, trials, DISPUTES_ZERO_AT),
                {"count": count, "visits": c.visits, "share": count / trials if trials else 0.0,
                 "by_reason": by_reason})


def no_shows_part(c: Counts) -> Part:
    turned_away = c.upheld.get("turned_away", 0)
    overturned = c.upheld.get("wrongly_marked_no_show", 0)
    count = turned_away + overturned
    # a turned-away booking was not a visit; an overturned no-show mark made its booking completed (bookings'
    # overturn_no_show), so it is among the visits already and is not counted twice
    trials = c.visits + turned_away
    return Part("no_shows", WEIGHTS["no_shows"], _rate_part(count, trials, NO_SHOWS_ZERO_AT),
                {"count": count, "turned_away": turned_away, "overturned_no_shows": overturned,
                 "visits": c.visits, "share": count / trials if trials else 0.0})


def cancellations_part(c: Counts) -> Part:
    count = c.cancelled_by_merchant + c.rejected
    weighted = c.cancelled_by_merchant + REJECTED_WEIGHT * c.rejected
    trials = max(c.bookings, count)
    return Part("cancellations", WEIGHTS["cancellations"], _rate_part(weighted, trials, CANCELLATIONS_ZERO_AT),
                {"count": count, "cancelled": c.cancelled_by_merchant, "rejected": c.rejected,
                 "bookings": c.bookings, "share": count / trials if trials else 0.0})


def reviews_part(c: Counts) -> Part:
    gaps = []
    for key in DETAILS:
        category = c.category_detail.get(key)
        own = c.detail.get(key)
        if category is None or own is None or not c.reviews:
            continue
        shrunk = (c.reviews * own + REVIEWS_PRIOR * category) / (c.reviews + REVIEWS_PRIOR)
        gaps.append(shrunk - category)
    gap = sum(gaps) / len(gaps) if gaps else 0.0
    return Part("reviews", WEIGHTS["reviews"], _clamp(REVIEWS_AT_AVERAGE + REVIEWS_PER_STAR * gap),
                {"reviews": c.reviews, "gap": round(gap, 2), "detail": dict(c.detail),
                 "category_detail": dict(c.category_detail)})


def _timeliness(hours: list[float], full_h: float, zero_h: float, prior: int) -> tuple[float, float | None]:
    """0-100 from the median of ``hours`` (full marks up to ``full_h``, none from ``zero_h``), shrunk towards
    full marks with ``prior`` cases' worth; and the median (None without cases)."""
    middle = median(hours) if hours else None
    observed = 100.0 if middle is None else _clamp(100.0 * (zero_h - middle) / (zero_h - full_h))
    return (len(hours) * observed + prior * 100.0) / (len(hours) + prior), middle


def response_part(c: Counts) -> Part:
    hours = list(c.response_hours) + [UNANSWERED_H] * c.unanswered
    score, middle = _timeliness(hours, RESPONSE_FULL_H, RESPONSE_ZERO_H, RESPONSE_PRIOR)
    data = {"disputes": len(hours), "median_hours": round(middle, 1) if middle is not None else None,
            "unanswered": c.unanswered}
    threads = list(c.message_hours) + [MESSAGE_ZERO_H] * c.messages_waiting
    if threads:  # residents wrote to the store: its replies count as much as its answers to disputes
        message_score, message_middle = _timeliness(threads, MESSAGE_FULL_H, MESSAGE_ZERO_H, MESSAGE_PRIOR)
        score = (score + message_score) / 2
        data.update(threads=len(threads), message_median_hours=round(message_middle, 1),
                    messages_waiting=c.messages_waiting)
    return Part("response_time", WEIGHTS["response_time"], score, data)


def fraud_part(c: Counts) -> Part:
    return Part("review_fraud", WEIGHTS["review_fraud"], _clamp(100.0 - STRIKE_COST * c.fraud_strikes),
                {"strikes": c.fraud_strikes})


def audits_part(c: Counts) -> Part:
    return Part("audits", WEIGHTS["audits"], _clamp(100.0 - FAILED_AUDIT_COST * c.failed_audits),
                {"audits": c.audits, "failed": c.failed_audits})


PARTS = (disputes_part, no_shows_part, cancellations_part, reviews_part, response_part, fraud_part, audits_part)


def compute(counts: Counts, min_visits: int = MIN_VISITS) -> Integrity:
    """The score (None: "new") and its parts, from one merchant's counts."""
    parts = [part(counts) for part in PARTS]
    total = sum(part.points for part in parts)
    score = None if counts.visits < min_visits else int(round(total))
    return Integrity(score=score, visits=counts.visits, parts=parts)


def parts_from_stored(stored: list[dict[str, Any]]) -> list[Part]:
    """Parts as stored (JSON) back into :class:`Part` values."""
    return [Part(p["key"], int(p["weight"]), float(p["score"]), dict(p.get("data") or {})) for p in stored]


def parts_to_stored(parts: list[Part]) -> list[dict[str, Any]]:
    return [{"key": p.key, "weight": p.weight, "score": round(p.score, 2), "data": p.data} for p in parts]


def is_warned(score: int | None, warn_below: int = WARN_BELOW) -> bool:
    return score is not None and score < warn_below


def is_hidden(score: int | None, hide_below: int = HIDE_BELOW) -> bool:
    """Whether its experiences leave "Best match" (a new merchant never does)."""
    return score is not None and score < hide_below


def _percent(share: float) -> str:
    return f"{100.0 * share:.1f}%"


def reason(key: str, data: Mapping[str, Any]) -> str:
    """The part's one line, in the current language, e.g. "2 upheld disputes in 90 days (0.8% of visits)"."""
    if key == "disputes":
        if not data.get("count"):
            return _("No upheld disputes in 90 days")
        return ngettext("%(num)d upheld dispute in 90 days (%(share)s of visits)",
                        "%(num)d upheld disputes in 90 days (%(share)s of visits)", data["count"],
                        share=_percent(data["share"]))
    if key == "no_shows":
        if not data.get("count"):
            return _("No turn-aways or wrong no-show marks in 90 days")
        return ngettext("%(num)d turn-away or wrong no-show mark in 90 days (%(share)s of visits)",
                        "%(num)d turn-aways or wrong no-show marks in 90 days (%(share)s of visits)",
                        data["count"], share=_percent(data["share"]))
    if key == "cancellations":
        if not data.get("count"):
            return _("No bookings cancelled or declined by the store in 90 days")
        return ngettext("%(num)d booking cancelled or declined by the store in 90 days (%(share)s of bookings)",
                        "%(num)d bookings cancelled or declined by the store in 90 days (%(share)s of bookings)",
                        data["count"], share=_percent(data["share"]))
    if key == "reviews":
        if not data.get("reviews"):
            return _("No reviews in 90 days")
        gap = float(data.get("gap") or 0.0)
        if abs(gap) < 0.05:
            return ngettext("Detailed ratings at the category's average (%(num)d review)",
                            "Detailed ratings at the category's average (%(num)d reviews)", data["reviews"])
        if gap > 0:
            return ngettext("Detailed ratings %(gap)s above the category's average (%(num)d review)",
                            "Detailed ratings %(gap)s above the category's average (%(num)d reviews)",
                            data["reviews"], gap=f"{gap:.1f}")
        return ngettext("Detailed ratings %(gap)s below the category's average (%(num)d review)",
                        "Detailed ratings %(gap)s below the category's average (%(num)d reviews)",
                        data["reviews"], gap=f"{-gap:.1f}")
    if key == "response_time":
        if not data.get("disputes"):
            line = _("No disputes to answer in 90 days")
        elif data.get("unanswered"):
            line = ngettext("Answers disputes in %(hours)s hours (median); %(num)d left unanswered",
                            "Answers disputes in %(hours)s hours (median); %(num)d left unanswered",
                            data["unanswered"], hours=f"{data['median_hours']:.0f}")
        else:
            line = _("Answers disputes in %(hours)s hours (median)", hours=f"{data['median_hours']:.0f}")
        if data.get("threads"):
            line = _("%(disputes)s; replies to messages in %(hours)s hours (median)", disputes=line,
                     hours=f"{data['message_median_hours']:.1f}")
        return line
    if key == "review_fraud":
        if not data.get("strikes"):
            return _("No review-fraud strikes in 90 days")
        return ngettext("%(num)d review-fraud strike in 90 days", "%(num)d review-fraud strikes in 90 days",
                        data["strikes"])
    if key == "audits":
        if not data.get("audits"):
            return _("No mystery-shopper audits yet")
        return ngettext("%(failed)d of %(num)d audit failed", "%(failed)d of %(num)d audits failed",
                        data["audits"], failed=data.get("failed", 0))
    return key


def label(key: str) -> str:
    """The part's name, in the current language."""
    return {"disputes": _("Upheld disputes"), "no_shows": _("Turn-aways and no-show marks"),
            "cancellations": _("Cancellations by the store"), "reviews": _("Detailed ratings"),
            "response_time": _("Response to disputes and messages"), "review_fraud": _("Review fraud"),
            "audits": _("Mystery-shopper audits")}.get(key, key)
