"""The demand radar on PostGIS: the roll-up equals a recount of the raw log, k-anonymity, the 90-day prune."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from app.discovery.models import SearchLog
from app.insights import services as s
from app.insights.models import ALL, DemandCount
from tests import factories as f

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # Monday noon in Shanghai
WULIN = (30.2770, 120.1640)
BINJIANG = (30.2080, 120.2110)


@pytest.fixture
def now(clock):
    clock.travel(NOW, tick=False)
    return NOW


@pytest.fixture(autouse=True)
def _fresh(db):
    # The roll-up reads everything after its mark: start each test from an empty log and counts.
    db.session.execute(text("DELETE FROM search_logs"))
    db.session.execute(text("DELETE FROM demand_counts"))
    db.session.execute(text("DELETE FROM rollup_marks"))


def log(db, *, lat, lng, at, categories=("class_workshop",), found=4, q=None, who=1, more=False):
    db.session.add(SearchLog(searched_at=at, kind="nearby", lat=lat, lng=lng, radius_m=3000,
                             categories=list(categories), q=q, result_count=found, has_more=more, searcher=who))


def test_the_roll_up_equals_a_recount_of_the_raw_log_in_several_runs(db, now):
    rng = random.Random(5)
    rows = []
    for _ in range(600):
        lat, lng = rng.choice((WULIN, BINJIANG))
        at = now - timedelta(minutes=rng.randrange(60 * 24 * 20))
        cats = rng.choice(((), ("class_workshop",), ("food_tasting", "kids_family")))
        found = rng.choice((0, 0, 1, 2, 5, 20))
        rows.append((lat + rng.uniform(-0.01, 0.01), lng + rng.uniform(-0.01, 0.01), at, cats, found))
    for i, (lat, lng, at, cats, found) in enumerate(rows[:250]):
        log(db, lat=lat, lng=lng, at=at, categories=cats, found=found, who=i % 40, q="tea" if found == 0 else None)
    db.session.flush()
    assert s.roll_up_searches(zone=SHANGHAI, k=10, batch=100) == 250
    for i, (lat, lng, at, cats, found) in enumerate(rows[250:]):
        log(db, lat=lat, lng=lng, at=at, categories=cats, found=found, who=i % 40, q="tea" if found == 0 else None)
    db.session.flush()
    assert s.roll_up_searches(zone=SHANGHAI, k=10, batch=64) == 350
    assert s.roll_up_searches(zone=SHANGHAI, k=10) == 0  # nothing new: nothing counted twice

    recount: Counter = Counter()
    zeros: Counter = Counter()
    for log_row in db.session.scalars(select(SearchLog)):
        local = log_row.searched_at.astimezone(SHANGHAI)
        for res in s.RESOLUTIONS:
            for cat in (ALL, *log_row.categories):
                key = (res, s.cell_of(log_row.lat, log_row.lng, res), cat, local.date(),
                       local.hour if res == s.RES_CITY else 0)
                recount[key] += 1
                zeros[key] += log_row.result_count == 0
    rolled = {(d.res, d.cell, d.category, d.day, d.hour): d for d in db.session.scalars(
        select(DemandCount).where(~DemandCount.category.startswith("w:")))}
    assert {key: d.searches for key, d in rolled.items()} == dict(recount)
    assert {key: d.zero_results for key, d in rolled.items()} == {key: zeros[key] for key in recount}
    assert sum(d.searches for d in db.session.scalars(
        select(DemandCount).where(DemandCount.category == "w:tea", DemandCount.res == s.RES_CITY))) == sum(
        1 for r in rows if r[4] == 0)


def _searches_in_one_cell(db, now, searchers: int, per_searcher: int = 3):
    for who in range(searchers):
        for i in range(per_searcher):
            log(db, lat=WULIN[0], lng=WULIN[1], at=now - timedelta(hours=who * 5 + i), found=0, who=1000 + who)
    db.session.flush()
    s.roll_up_searches(zone=SHANGHAI, k=10)


def test_a_cell_with_k_minus_1_searchers_is_never_shown_however_many_searches(db, now):
    _searches_in_one_cell(db, now, searchers=9, per_searcher=20)  # 180 searches, 9 people
    today = now.astimezone(SHANGHAI).date()
    for res in s.RESOLUTIONS:
        assert s.demand_by_cell(res=res, since=today - timedelta(days=90), until=today, k=10) == []
    assert s.opportunities(lat=WULIN[0], lng=WULIN[1], radius_m=3000, since=today - timedelta(days=90),
                           until=today, k=10) == []


def test_the_kth_searcher_makes_the_cell_appear_with_rounded_counts(db, now):
    _searches_in_one_cell(db, now, searchers=10, per_searcher=3)  # 30 searches, 10 people
    today = now.astimezone(SHANGHAI).date()
    (cell,) = s.demand_by_cell(res=s.RES_FINE, since=today - timedelta(days=7), until=today, k=10)
    assert cell.cell == s.cell_of(*WULIN, s.RES_FINE)
    assert (cell.searches, cell.zero_results) == (30, 30)
    # A window that holds only 9 of them hides it again.
    first_day = (now - timedelta(hours=9 * 5 + 2)).astimezone(SHANGHAI).date()
    assert s.demand_by_cell(res=s.RES_FINE, since=first_day, until=first_day, k=10) == [] or first_day == today


def test_a_kept_answer_is_never_served_once_the_counts_change_and_k_minus_1_stays_hidden(db, now):
    # The pages keep their sums per version of the counts: a roll-up (or any write) makes them read afresh.
    _searches_in_one_cell(db, now, searchers=9, per_searcher=3)  # 27 searches, 9 people
    today = now.astimezone(SHANGHAI).date()
    week = {"since": today - timedelta(days=7), "until": today, "k": 10}
    area = {"lat": WULIN[0], "lng": WULIN[1], "radius_m": 3000, **week}
    version = s.counts_version()
    for _ in range(2):  # computed, then the kept answer: k-1 searchers are hidden on both paths
        assert s.demand_by_cell(res=s.RES_FINE, **week) == []
        assert s.opportunities(**area) == []
    assert s.counts_version() == version

    log(db, lat=WULIN[0], lng=WULIN[1], at=now - timedelta(hours=1), found=0, who=10_009)  # the 10th person
    db.session.flush()
    s.roll_up_searches(zone=SHANGHAI, k=10)
    assert s.counts_version() > version
    (cell,) = s.demand_by_cell(res=s.RES_FINE, **week)
    assert cell.searches == 30
    assert [o.searches for o in s.opportunities(**area)] == [30]

    db.session.execute(text("DELETE FROM demand_counts WHERE res = :res"), {"res": s.RES_FINE})  # the demo's way
    assert s.demand_by_cell(res=s.RES_FINE, **week) == []
    assert s.opportunities(**area) == []


def test_counts_shown_are_rounded(db, now):
    _searches_in_one_cell(db, now, searchers=11, per_searcher=1)  # 11 searches
    today = now.astimezone(SHANGHAI).date()
    (cell,) = s.demand_by_cell(res=s.RES_CITY, since=today - timedelta(days=7), until=today, k=10)
    assert cell.searches == 10


def test_the_opportunity_list_sums_the_area_and_names_the_merchants_experiences(db, now):
    store = f.create_store(lng=WULIN[1], lat=WULIN[0])
    mine = f.create_offering(store, category="class_workshop")
    _searches_in_one_cell(db, now, searchers=12, per_searcher=2)
    today = now.astimezone(SHANGHAI).date()
    (o,) = s.opportunities(lat=WULIN[0], lng=WULIN[1], radius_m=3000, since=today - timedelta(days=7),
                           until=today, k=10, business_id=store.business_id)
    assert (o.category, o.searches, o.zero_results, o.offers) == ("class_workshop", 25, 25, 1)
    assert o.own_offerings == [(mine.id, mine.title)]
    assert len(o.peak_hours) == 3 and all(1 <= d <= 7 and 0 <= h <= 23 for d, h in o.peak_hours)


def test_the_sweep_deletes_raw_searches_older_than_90_days_once_rolled_up_and_keeps_the_counts(db, now):
    log(db, lat=WULIN[0], lng=WULIN[1], at=now - timedelta(days=91))
    log(db, lat=WULIN[0], lng=WULIN[1], at=now - timedelta(days=89))
    db.session.flush()
    assert s.prune_search_log(now) == 0  # not rolled up yet: kept
    s.roll_up_searches(zone=SHANGHAI, k=10)
    assert s.prune_search_log(now) == 1
    assert db.session.scalar(select(func.count(SearchLog.id))) == 1
    assert db.session.scalar(select(func.sum(DemandCount.searches)).where(
        DemandCount.res == s.RES_CITY, DemandCount.category == ALL)) == 2


def test_waitlist_entries_still_waiting_when_the_slot_began_count_as_overflows(db, now):
    from bookings.models import WaitlistEntry

    store = f.create_store(lng=WULIN[1], lat=WULIN[0])
    offering = f.create_offering(store, category="class_workshop")
    slot = f.create_slot(offering, starts_at=now - timedelta(hours=2))
    for _ in range(3):
        db.session.add(WaitlistEntry(slot_id=slot.id, resident_id=f.create_user().id, party_size=1))
    db.session.flush()
    assert s.roll_up_waitlist(now, zone=SHANGHAI, k=10, salt="x") == 3
    assert s.roll_up_waitlist(now, zone=SHANGHAI, k=10, salt="x") == 0  # counted once
    total = db.session.scalar(select(func.sum(DemandCount.waitlist_overflows)).where(
        DemandCount.res == s.RES_FINE, DemandCount.category == "class_workshop"))
    assert total == 3


def test_seat_requests_count_once_as_residents_who_found_every_seat_taken(db, now):
    from app.favourites.models import SeatInterest

    store = f.create_store(lng=WULIN[1], lat=WULIN[0])
    offering = f.create_offering(store, category="class_workshop")
    for minutes in (30, 20, 10):
        db.session.add(SeatInterest(resident_id=f.create_user().id, offering_id=offering.id,
                                    created_at=now - timedelta(minutes=minutes)))
    db.session.flush()
    assert s.roll_up_seat_requests(now, zone=SHANGHAI, k=10, salt="x") == 3
    assert s.roll_up_seat_requests(now, zone=SHANGHAI, k=10, salt="x") == 0  # counted once
    later = now + timedelta(minutes=5)
    db.session.add(SeatInterest(resident_id=f.create_user().id, offering_id=offering.id, created_at=later))
    db.session.flush()
    assert s.run_radar(later, zone=SHANGHAI, k=10, salt="x")["seat_requests"] == 1
    for res in s.RESOLUTIONS:
        total = db.session.scalar(select(func.sum(DemandCount.waitlist_overflows)).where(
            DemandCount.res == res, DemandCount.category == "class_workshop"))
        assert total == 4
