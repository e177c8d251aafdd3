"""The integrity formula (trust/score.py): each part moves the score the documented way; few data stays "new"."""

from __future__ import annotations

import pytest

from trust import score as s

GOOD = s.Counts(visits=200, bookings=220)


def parts(counts):
    return {p.key: p for p in s.compute(counts).parts}


def test_weights_sum_to_100_and_a_clean_record_scores_high():
    assert sum(s.WEIGHTS.values()) == 100
    result = s.compute(GOOD)
    # Every part at full marks, reviews at the category's average (80 % of 15).
    assert result.score == 97
    assert not result.is_new


def test_few_visits_is_new_with_the_parts_so_far():
    result = s.compute(s.Counts(visits=3, bookings=4, upheld={"not_as_described": 1}))
    assert result.score is None and result.is_new
    assert [p.key for p in result.parts] == list(s.WEIGHTS)
    assert parts(s.Counts(visits=3, upheld={"not_as_described": 1}))["disputes"].data["count"] == 1
    assert s.compute(s.Counts(visits=10)).score is not None


def test_wilson_lower_bound():
    assert s.wilson_lower(0, 0) == 0.0
    assert s.wilson_lower(0, 100) == 0.0
    assert s.wilson_lower(1, 5) < 0.05  # one in five is far from 20 % with so few
    assert s.wilson_lower(40, 200) == pytest.approx(0.1496, abs=1e-3)
    assert s.wilson_lower(5, 3) == s.wilson_lower(3, 3)  # never more events than trials


@pytest.mark.parametrize("reason", ["not_as_described", "charged_more_than_listed", "safety_or_hygiene", "other",
                                    "merchant_cancelled_late"])
def test_an_upheld_dispute_lowers_the_disputes_part(reason):
    before = s.compute(GOOD).score
    after = s.compute(s.Counts(visits=200, bookings=220, upheld={reason: 4}))
    assert after.score < before
    assert {p.key: p for p in after.parts}["disputes"].data == {
        "count": 4, "visits": 200, "share": 0.02, "by_reason": {reason: 4}}


def test_reasons_weigh_as_documented():
    def disputes(reason):
        return parts(s.Counts(visits=200, upheld={reason: 5}))["disputes"].score

    assert disputes("safety_or_hygiene") < disputes("charged_more_than_listed") < disputes("not_as_described")
    assert disputes("not_as_described") == disputes("merchant_cancelled_late") < disputes("other")


def test_few_data_do_not_swing():
    # One upheld dispute in 12 visits (8 % observed) costs less than ten in 200 (5 %): the bound wants evidence.
    small = parts(s.Counts(visits=12, upheld={"not_as_described": 1}))["disputes"].score
    large = parts(s.Counts(visits=200, upheld={"not_as_described": 10}))["disputes"].score
    assert small > large
    assert small > 60


def test_turn_aways_and_overturned_no_shows_count_in_their_own_part():
    p = parts(s.Counts(visits=100, upheld={"turned_away": 2, "wrongly_marked_no_show": 1}))
    assert p["disputes"].score == 100 and p["disputes"].data["count"] == 0
    assert p["no_shows"].data == {"count": 3, "turned_away": 2, "overturned_no_shows": 1, "visits": 100,
                                  "share": pytest.approx(3 / 102)}
    assert p["no_shows"].score < 100


def test_cancellations_weigh_more_than_rejections():
    cancelled = parts(s.Counts(bookings=100, cancelled_by_merchant=10))["cancellations"].score
    rejected = parts(s.Counts(bookings=100, rejected=10))["cancellations"].score
    assert cancelled < rejected < 100
    assert parts(s.Counts(bookings=100, cancelled_by_merchant=60))["cancellations"].score == 0


def test_reviews_against_the_category_with_a_prior():
    category = {"described": 4.5, "service": 4.5, "value": 4.5}

    def reviews(n, own):
        return parts(s.Counts(reviews=n, detail={k: own for k in category}, category_detail=category))["reviews"]

    assert reviews(0, 1.0).score == s.REVIEWS_AT_AVERAGE
    assert reviews(50, 4.5).score == s.REVIEWS_AT_AVERAGE
    assert reviews(50, 5.0).score > s.REVIEWS_AT_AVERAGE > reviews(50, 3.5).score
    assert reviews(2, 1.0).score > reviews(50, 1.0).score  # two bad reviews move it little
    assert reviews(50, 3.5).data["gap"] == pytest.approx(-50 / 60, abs=0.01)


def test_response_time():
    def response(hours, unanswered=0):
        return parts(s.Counts(response_hours=tuple(hours), unanswered=unanswered))["response_time"]

    assert response([]).score == 100
    assert response([2, 3, 5]).score == 100
    assert response([40, 45, 47]).score < response([20, 24, 30]).score < 100
    slow = response([60] * 20).score
    assert slow < 15
    assert response([1], unanswered=3).data == {"disputes": 4, "median_hours": 72.0, "unanswered": 3}
    assert response([47]).score > 50  # one slow answer, with the prior, costs a little


def test_message_replies_count_when_residents_wrote():
    def response(disputes=(), threads=(), waiting=0):
        return parts(s.Counts(response_hours=tuple(disputes), message_hours=tuple(threads),
                              messages_waiting=waiting))["response_time"]

    assert response(disputes=[2, 3]).data == response(disputes=[2, 3], threads=()).data  # no threads: disputes only
    assert "threads" not in response(disputes=[2, 3]).data
    assert response(threads=[0.2] * 10).score == 100  # replies within the hour
    slow = response(threads=[30.0] * 20)
    assert slow.score == 60  # messages: (20 x 0 + 5 x 100) / 25 = 20; the disputes half (none) at 100
    assert response(threads=[0.5], waiting=9).data["message_median_hours"] == 24.0  # waiting threads count as 24 h
    assert response(threads=[0.5], waiting=9).score < response(threads=[0.5]).score
    assert response(threads=[10.0]).score > 80  # one slow reply, with the prior, costs a little
    assert response(disputes=[5.0, 7.0], threads=[1.5, 2.5]).reason == (
        "Answers disputes in 6 hours (median); replies to messages in 2.0 hours (median)")
    counts = s.Counts(message_hours=(1.5, 3.0), messages_waiting=2)
    assert s.Counts.from_dict(counts.as_dict()) == counts


def test_fraud_strikes_and_audits():
    assert parts(s.Counts(fraud_strikes=1))["review_fraud"].score == 75
    assert parts(s.Counts(fraud_strikes=5))["review_fraud"].score == 0
    assert parts(s.Counts())["audits"].score == 100  # no audits exist yet: weight, no data
    assert parts(s.Counts(audits=2, failed_audits=1))["audits"].score == 50


def test_each_bad_event_only_lowers_the_score():
    base = s.Counts(visits=100, bookings=120)
    worse = [
        s.Counts(visits=100, bookings=120, upheld={"other": 3}),
        s.Counts(visits=100, bookings=120, upheld={"turned_away": 3}),
        s.Counts(visits=100, bookings=120, cancelled_by_merchant=10),
        s.Counts(visits=100, bookings=120, fraud_strikes=2),
        s.Counts(visits=100, bookings=120, failed_audits=1, audits=1),
        s.Counts(visits=100, bookings=120, response_hours=(40.0, 44.0, 46.0, 47.0)),
    ]
    for counts in worse:
        assert s.compute(counts).score < s.compute(base).score, counts


def test_lines():
    assert s.is_warned(59) and not s.is_warned(60) and not s.is_warned(None)
    assert s.is_hidden(39) and not s.is_hidden(40) and not s.is_hidden(None)


def test_reason_lines_in_english():
    p = parts(s.Counts(visits=248, upheld={"not_as_described": 2}))
    assert p["disputes"].reason == "2 upheld disputes in 90 days (0.8% of visits)"
    assert parts(GOOD)["disputes"].reason == "No upheld disputes in 90 days"
    assert parts(s.Counts(visits=99, upheld={"turned_away": 1}))["no_shows"].reason == (
        "1 turn-away or wrong no-show mark in 90 days (1.0% of visits)")
    assert parts(GOOD)["audits"].reason == "No mystery-shopper audits yet"
    assert parts(s.Counts(response_hours=(5.0, 7.0)))["response_time"].reason == (
        "Answers disputes in 6 hours (median)")


def test_stored_parts_round_trip():
    result = s.compute(s.Counts(visits=30, upheld={"other": 1}, response_hours=(3.0,)))
    again = s.parts_from_stored(s.parts_to_stored(result.parts))
    assert [p.key for p in again] == [p.key for p in result.parts]
    assert [p.reason for p in again] == [p.reason for p in result.parts]
    counts = s.Counts(visits=3, upheld={"other": 1}, response_hours=(1.5,))
    assert s.Counts.from_dict(counts.as_dict()) == counts
