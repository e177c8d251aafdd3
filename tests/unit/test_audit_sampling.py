"""Mystery-shopper audit sampling (trust.audit_sampling): documented weights, proportional draws, seeded."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from trust.audit_sampling import BASE, MerchantRisk, sample, weight


def test_a_good_established_merchant_has_the_base_weight_and_never_zero():
    assert weight(MerchantRisk(1, score=95, score_30_days_ago=90, disputes_90_days=0, days_active=400)) == BASE
    assert weight(MerchantRisk(2)) > 0


@pytest.mark.parametrize(("risky", "reason"), [
    (MerchantRisk(1, score=40), "low score"),
    (MerchantRisk(1, score=80, score_30_days_ago=95), "falling score"),
    (MerchantRisk(1, score=90, disputes_90_days=2), "recent disputes"),
    (MerchantRisk(1, days_active=10), "new merchant"),
])
def test_each_risk_weighs_more_than_a_good_merchant(risky, reason):
    assert weight(risky) > weight(MerchantRisk(1, score=90)), reason


def test_documented_figures_and_caps():
    assert weight(MerchantRisk(1, score=0)) == pytest.approx(1 + 7)
    assert weight(MerchantRisk(1, score=80, score_30_days_ago=90)) == pytest.approx(1 + 2)
    assert weight(MerchantRisk(1, score=80, score_30_days_ago=200)) == pytest.approx(1 + 4)
    assert weight(MerchantRisk(1, disputes_90_days=40)) == pytest.approx(1 + 5)
    assert weight(MerchantRisk(1, days_active=89)) == pytest.approx(1 + 2)


def test_single_draws_are_proportional_to_the_weights():
    risks = [MerchantRisk(1, score=95), MerchantRisk(2, score=40), MerchantRisk(3, disputes_90_days=3),
             MerchantRisk(4, days_active=5), MerchantRisk(5, score=60, score_30_days_ago=80)]
    total = sum(weight(risk) for risk in risks)
    draws = 40_000

    rng = random.Random(20261128)
    counts = Counter(sample(risks, 1, rng=rng)[0] for _ in range(draws))
    chi_square = sum((counts[risk.business_id] - draws * weight(risk) / total) ** 2
                     / (draws * weight(risk) / total) for risk in risks)
    # 4 degrees of freedom: P(chi2 > 18.47) = 0.001. A fixed seed makes this deterministic anyway.
    assert chi_square < 18.47, (chi_square, counts)
    assert set(counts) == {1, 2, 3, 4, 5}


def test_sampling_is_distinct_seeded_and_bounded():
    risks = [MerchantRisk(i, score=50 + i) for i in range(1, 21)]
    first = sample(risks, 5, seed="2026Q4")
    assert first == sample(list(reversed(risks)), 5, seed="2026Q4")
    assert len(set(first)) == 5
    assert sorted(sample(risks, 50, seed=1)) == list(range(1, 21))
    assert sample([], 3, seed=1) == []
