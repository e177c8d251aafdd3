"""The demand radar's pure arithmetic: h3 cells, searcher hashes, rounding, the capped per-cell tallies."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import h3
import pytest

from app.insights import services as s
from app.insights.models import ALL, WORD_PREFIX

SHANGHAI = ZoneInfo("Asia/Shanghai")
WULIN = (30.2770, 120.1640)
MONDAY_0930_LOCAL = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)


def row(lat=WULIN[0], lng=WULIN[1], at=MONDAY_0930_LOCAL, categories=("class_workshop",), q=None, found=5,
        more=False, who=1):
    return s.SearchRow(at, lat, lng, categories, q, found, more, who)


def test_the_two_resolutions_are_a_neighbourhood_and_a_district():
    assert 0.08 < h3.average_hexagon_area(s.RES_FINE, unit="km^2") < 0.12
    assert 4 < h3.average_hexagon_area(s.RES_CITY, unit="km^2") < 6


@pytest.mark.parametrize("res", s.RESOLUTIONS)
def test_a_point_falls_in_the_cell_that_contains_it_and_round_trips(res):
    cell = s.cell_of(*WULIN, res)
    assert s.cell_hex(cell) == h3.latlng_to_cell(*WULIN, res)
    assert -(1 << 63) <= cell < 1 << 63  # fits a bigint
    lat, lng = h3.cell_to_latlng(s.cell_hex(cell))
    assert s.cell_of(lat, lng, res) == cell
    assert len(s.cell_boundary(cell)) == 6


def test_a_fine_cell_lies_inside_its_city_cell():
    fine = s.cell_hex(s.cell_of(*WULIN, s.RES_FINE))
    assert h3.cell_to_parent(fine, s.RES_CITY) == s.cell_hex(s.cell_of(*WULIN, s.RES_CITY))


def test_points_100_m_apart_across_a_cell_edge_fall_in_different_cells():
    rng = random.Random(3)
    seen = {s.cell_of(WULIN[0] + rng.uniform(-0.01, 0.01), WULIN[1] + rng.uniform(-0.01, 0.01), s.RES_FINE)
            for _ in range(200)}
    assert len(seen) > 10  # a 2 km box holds many 0.1 km² cells


def test_cells_within_a_radius_cover_the_disc_and_no_more():
    cells = s.cells_within(*WULIN, 3000, s.RES_FINE)
    area = len(cells) * h3.average_hexagon_area(s.RES_FINE, unit="km^2")
    assert 25 < area < 40  # π·3² ≈ 28 km², plus the rim
    assert s.cell_of(*WULIN, s.RES_FINE) in cells
    far = s.cell_of(WULIN[0] + 0.05, WULIN[1], s.RES_FINE)  # 5.5 km north
    assert far not in cells


def test_searcher_keys_are_stable_salted_and_64_bit():
    a = s.searcher_key("user:1", "salt")
    assert a == s.searcher_key("user:1", "salt")
    assert a != s.searcher_key("user:2", "salt")
    assert a != s.searcher_key("user:1", "other salt")
    assert -(1 << 63) <= a < 1 << 63


@pytest.mark.parametrize(("n", "shown"), [(0, 0), (1, 0), (2, 0), (3, 5), (7, 5), (8, 10), (140, 140), (142, 140)])
def test_counts_are_rounded_to_5(n, shown):
    assert s.rounded_count(n) == shown


def test_a_search_counts_for_every_category_it_named_and_for_all_at_both_resolutions():
    tallies = s.tally_searches([row(categories=("class_workshop", "food_tasting"))], SHANGHAI, k=10)
    assert {(key[0], key[2]) for key in tallies} == {
        (res, cat) for res in s.RESOLUTIONS for cat in (ALL, "class_workshop", "food_tasting")}
    assert all(t.searches == 1 for t in tallies.values())


def test_day_and_hour_are_the_citys_local_ones_and_fine_cells_keep_whole_days():
    late = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # 23:30 on Monday in Shanghai, 15:30 UTC
    tallies = s.tally_searches([row(at=late)], SHANGHAI, k=10)
    assert {(key[0], key[3].isoformat(), key[4]) for key in tallies} == {
        (s.RES_CITY, "2026-11-23", 23), (s.RES_FINE, "2026-11-23", 0)}


def test_zero_and_few_results_and_words_that_found_nothing():
    tallies = s.tally_searches([
        row(found=0, q="  Pottery   Wheel ", categories=()),
        row(found=2),  # few
        row(found=2, more=True),  # a next page: not few
        row(found=9),
    ], SHANGHAI, k=10)
    fine_all = tallies[(s.RES_FINE, s.cell_of(*WULIN, s.RES_FINE), ALL, MONDAY_0930_LOCAL.date(), 0)]
    city_all = tallies[(s.RES_CITY, s.cell_of(*WULIN, s.RES_CITY), ALL, MONDAY_0930_LOCAL.date(), 9)]
    assert city_all.searches == fine_all.searches
    assert (fine_all.searches, fine_all.zero_results, fine_all.few_results) == (4, 1, 1)
    word = [key for key in tallies if key[2].startswith(WORD_PREFIX)]
    assert {key[2] for key in word} == {WORD_PREFIX + "pottery wheel"}


def test_a_tally_keeps_at_most_k_searchers_but_counts_every_search():
    tallies = s.tally_searches([row(who=i) for i in range(25)], SHANGHAI, k=10)
    for tally in tallies.values():
        assert tally.searches == 25
        assert len(tally.searchers) == 10


def test_capped_sets_decide_the_k_threshold_exactly_over_any_window():
    """The union of per-hour sets capped at k reaches k exactly when the uncapped union does."""
    rng = random.Random(11)
    k = 10
    for _ in range(300):
        rows = [row(at=MONDAY_0930_LOCAL + timedelta(hours=rng.randrange(48)), who=rng.randrange(14))
                for _ in range(rng.randrange(1, 30))]
        tallies = s.tally_searches(rows, SHANGHAI, k)
        keys = [key for key in tallies if key[0] == s.RES_FINE and key[2] == ALL]
        capped = set().union(*(tallies[key].searchers for key in keys))
        truth = {r.searcher for r in rows}
        assert (len(capped) >= k) == (len(truth) >= k)
