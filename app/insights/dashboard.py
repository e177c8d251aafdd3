"""A store's figures for its dashboard: each chart is a table (what the CSV holds) drawn as server-side SVG.

Everything is computed in the store's time zone from the booking domain's tables, read-only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import format_date, format_decimal, format_percent
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import text

from app.errors import NotFound
from app.extensions import db
from app.i18n import format_day

CHARTS = ("bookings", "rates", "takings", "capacity", "ratings", "residents")
PALETTE = ("#0d6efd", "#20c997", "#fd7e14", "#d63384")


@dataclass
class Chart:
    key: str
    title: str
    headers: list[str]
    rows: list[list]  # the first cell labels the row; the rest are numbers (Decimal for money, float for rates)
    kinds: list[str]  # per value column: "count", "rate", "money", "mean"
    series: list[int] = field(default_factory=lambda: [1])  # which value columns are drawn
    svg: Markup = Markup("")

    @property
    def text_rows(self) -> list[list[str]]:
        """The rows as shown in the table under the chart, and as written to the CSV."""
        return [[str(row[0]), *(_fmt(v, kind) for v, kind in zip(row[1:], self.kinds, strict=True))]
                for row in self.rows]


def _fmt(value, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "text":
        return str(value)
    if kind == "rate":
        return format_percent(value, format="#,##0.0%")
    if kind == "money":
        return format_decimal(value, format="#,##0.00")
    if kind == "mean":
        return format_decimal(value, format="0.0")
    return format_decimal(value)


def _days(since: date, until: date) -> list[date]:
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]


def _weeks(since: date, until: date) -> list[date]:
    start = since - timedelta(days=since.weekday())
    return [start + timedelta(weeks=i) for i in range((until - start).days // 7 + 1)]


def _bookings(store, zone: ZoneInfo, since: date, until: date) -> Chart:
    params = {"store": store.id, "zone": zone.key, "since": since, "until": until}
    booked = dict(db.session.execute(text("""
        SELECT (starts_at AT TIME ZONE :zone)::date, count(*) FROM bookings
        WHERE store_id = :store AND status NOT IN ('rejected', 'cancelled_by_resident', 'cancelled_by_merchant')
          AND (starts_at AT TIME ZONE :zone)::date BETWEEN :since AND :until GROUP BY 1"""), params).all())
    visits = dict(db.session.execute(text("""
        SELECT (checked_in_at AT TIME ZONE :zone)::date, count(*) FROM check_ins
        WHERE store_id = :store AND (checked_in_at AT TIME ZONE :zone)::date BETWEEN :since AND :until
        GROUP BY 1"""), params).all())
    rows = [[format_day(d, "day"), booked.get(d, 0), visits.get(d, 0)] for d in _days(since, until)]
    return Chart("bookings", _("Bookings and visits per day"), [_("Day"), _("Bookings"), _("Visits")], rows,
                 ["count", "count"], [1, 2])


def _rates(store, zone: ZoneInfo, since: date, until: date) -> Chart:
    weeks = _weeks(since, until)
    params = {"store": store.id, "zone": zone.key, "since": weeks[0], "until": until}
    found = {r.week: r for r in db.session.execute(text("""
        SELECT date_trunc('week', (starts_at AT TIME ZONE :zone))::date AS week,
               count(*) FILTER (WHERE status = 'no_show') AS no_shows,
               count(*) FILTER (WHERE status IN ('no_show', 'checked_in', 'completed')) AS due,
               count(*) FILTER (WHERE is_late_cancel) AS late,
               count(*) FILTER (WHERE status NOT IN ('rejected')) AS booked
        FROM bookings WHERE store_id = :store
          AND (starts_at AT TIME ZONE :zone)::date BETWEEN :since AND :until GROUP BY 1"""), params)}
    rows = []
    for week in weeks:
        r = found.get(week)
        no_show = r.no_shows / r.due if r and r.due else None
        late = r.late / r.booked if r and r.booked else None
        rows.append([_("Week of %(day)s", day=format_day(week, "day")), no_show, late])
    return Chart("rates", _("No-show and late-cancel rates per week"),
                 [_("Week"), _("No-show rate"), _("Late-cancel rate")], rows, ["rate", "rate"], [1, 2])


def _takings(store, zone: ZoneInfo, since: date, until: date) -> Chart:
    rows = db.session.execute(text("""
        SELECT p.method, p.currency, sum(p.amount) AS amount, count(*) AS n FROM offline_payments p
        JOIN bookings b ON b.id = p.booking_id
        WHERE b.store_id = :store AND (p.recorded_at AT TIME ZONE :zone)::date BETWEEN :since AND :until
          AND NOT EXISTS (SELECT 1 FROM offline_payments later WHERE later.supersedes_id = p.id)
        GROUP BY 1, 2 ORDER BY 3 DESC, 1"""), {"store": store.id, "zone": zone.key, "since": since,
                                                "until": until}).all()
    methods = {"mobile_wallet_at_store": _("Mobile wallet at the store"), "card_at_store": _("Card at the store"),
               "cash": _("Cash"), "other": _("Other")}
    return Chart("takings", _("Takings recorded at the store, by method"),
                 [_("Method"), _("Currency"), _("Amount"), _("Payments")],
                 [[methods.get(r.method, r.method), r.currency, Decimal(r.amount), r.n] for r in rows],
                 ["text", "money", "count"], [2])


def _capacity(store, zone: ZoneInfo, since: date, until: date) -> Chart:
    found = {(r.weekday, r.hour): r for r in db.session.execute(text("""
        SELECT EXTRACT(isodow FROM (s.starts_at AT TIME ZONE :zone))::int AS weekday,
               EXTRACT(hour FROM (s.starts_at AT TIME ZONE :zone))::int AS hour,
               sum(s.seats_taken) AS taken, sum(s.capacity) AS capacity
        FROM slots s JOIN offerings o ON o.id = s.offering_id
        WHERE o.store_id = :store AND s.status <> 'cancelled'
          AND (s.starts_at AT TIME ZONE :zone)::date BETWEEN :since AND :until GROUP BY 1, 2 ORDER BY 1, 2"""),
        {"store": store.id, "zone": zone.key, "since": since, "until": until})}
    names = [format_date(date(2024, 1, 1) + timedelta(days=i), "EEE") for i in range(7)]
    rows = [[f"{names[w - 1]} {h:02d}:00", r.taken, r.capacity, r.taken / r.capacity if r.capacity else None]
            for (w, h), r in sorted(found.items())]
    return Chart("capacity", _("Capacity used by hour of the week"),
                 [_("Hour"), _("Seats taken"), _("Seats"), _("Used")], rows, ["count", "count", "rate"], [3])


def _ratings(store, zone: ZoneInfo, since: date, until: date) -> Chart:
    weeks = _weeks(since, until)
    found = {r.week: r for r in db.session.execute(text("""
        SELECT date_trunc('week', (created_at AT TIME ZONE :zone))::date AS week, avg(rating) AS mean, count(*) AS n
        FROM reviews WHERE store_id = :store AND status = 'published'
          AND (created_at AT TIME ZONE :zone)::date BETWEEN :since AND :until GROUP BY 1"""),
        {"store": store.id, "zone": zone.key, "since": weeks[0], "until": until})}
    rows = [[_("Week of %(day)s", day=format_day(w, "day")),
             float(found[w].mean) if w in found else None, found[w].n if w in found else 0] for w in weeks]
    return Chart("ratings", _("Ratings over time"), [_("Week"), _("Average rating"), _("Reviews")], rows,
                 ["mean", "count"], [1])


def _residents(store, zone: ZoneInfo, since: date, until: date) -> Chart:
    weeks = _weeks(since, until)
    found = {r.week: r for r in db.session.execute(text("""
        WITH visits AS (
            SELECT b.resident_id, date_trunc('week', (b.starts_at AT TIME ZONE :zone))::date AS week,
                   min(b.starts_at) AS first_here
            FROM bookings b WHERE b.store_id = :store AND b.status IN ('checked_in', 'completed')
              AND (b.starts_at AT TIME ZONE :zone)::date BETWEEN :since AND :until GROUP BY 1, 2),
        firsts AS (SELECT resident_id, min(starts_at) AS first_ever FROM bookings
                   WHERE store_id = :store AND status IN ('checked_in', 'completed') GROUP BY 1)
        SELECT v.week, count(*) FILTER (WHERE f.first_ever >= v.first_here) AS new,
               count(*) FILTER (WHERE f.first_ever < v.first_here) AS returning
        FROM visits v JOIN firsts f USING (resident_id) GROUP BY 1"""),
        {"store": store.id, "zone": zone.key, "since": weeks[0], "until": until})}
    rows = [[_("Week of %(day)s", day=format_day(w, "day")), found[w].new if w in found else 0,
             found[w].returning if w in found else 0] for w in weeks]
    return Chart("residents", _("New and returning residents per week"),
                 [_("Week"), _("New"), _("Returning")], rows, ["count", "count"], [1, 2])


BUILDERS: dict[str, Callable] = {"bookings": _bookings, "rates": _rates, "takings": _takings,
                                 "capacity": _capacity, "ratings": _ratings, "residents": _residents}


def store_chart(store, now: datetime, days: int, key: str) -> Chart:
    """Return one chart of a store's last ``days`` days, with its SVG.

    :raises NotFound: for a chart that does not exist.
    """
    if key not in BUILDERS:
        raise NotFound(_("No such chart."))
    zone = ZoneInfo(store.timezone)
    until = now.astimezone(zone).date()
    chart = BUILDERS[key](store, zone, until - timedelta(days=days - 1), until)
    chart.svg = bar_svg(chart)
    return chart


def store_charts(store, now: datetime, days: int) -> list[Chart]:
    """Return every chart of a store's dashboard."""
    return [store_chart(store, now, days, key) for key in CHARTS]


def bar_svg(chart: Chart, width: int = 720, height: int = 220) -> Markup:
    """Draw a chart's drawn columns as grouped bars: an accessible, script-free SVG."""
    labels = [str(row[0]) for row in chart.rows]
    series: list[tuple[str, Sequence[float | None]]] = [
        (chart.headers[i], [None if row[i] is None else float(row[i]) for row in chart.rows]) for i in chart.series]
    top = max((v for _name, values in series for v in values if v is not None), default=0) or 1
    pad_l, pad_b, pad_t = 44, 46, 12
    plot_w, plot_h = width - pad_l - 8, height - pad_b - pad_t
    n = max(len(labels), 1)
    group = plot_w / n
    bar = max(1.0, group * 0.8 / max(len(series), 1))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'class="insights-chart" data-chart="{chart.key}" aria-label="{escape(chart.title)}">']
    kind = chart.kinds[chart.series[0] - 1]
    for frac in (0, 0.5, 1):
        y = pad_t + plot_h * (1 - frac)
        parts.append(f'<line x1="{pad_l}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dee2e6"/>'
                     f'<text x="{pad_l - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">'
                     f'{escape(_fmt(top * frac if kind != "count" else round(top * frac), kind))}</text>')
    every = max(1, n // 12)
    for i, label in enumerate(labels):
        x0 = pad_l + i * group + group * 0.1
        for s, (name, values) in enumerate(series):
            column = chart.series[s]
            v = values[i]
            if v is None:
                continue
            h = plot_h * v / top
            parts.append(f'<rect x="{x0 + s * bar:.1f}" y="{pad_t + plot_h - h:.1f}" width="{bar:.1f}" '
                         f'height="{h:.1f}" fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(label)} · '
                         f'{escape(name)}: {escape(_fmt(chart.rows[i][column], chart.kinds[column - 1]))}'
                         f'</title></rect>')
        if i % every == 0:
            parts.append(f'<text x="{pad_l + i * group + group / 2:.1f}" y="{height - pad_b + 14}" font-size="10" '
                         f'text-anchor="middle">{escape(label[:14])}</text>')
    for s, (name, _values) in enumerate(series):
        parts.append(f'<rect x="{pad_l + s * 140}" y="{height - 16}" width="10" height="10" '
                     f'fill="{PALETTE[s % len(PALETTE)]}"/><text x="{pad_l + s * 140 + 14}" y="{height - 7}" '
                     f'font-size="11">{escape(name)}</text>')
    if not chart.rows:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" font-size="13" fill="#6c757d">'
                     f'{escape(_("Nothing recorded in this period."))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped
