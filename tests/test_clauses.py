"""One test per clause of rebate-rules.md, named after it, with both edges of each band.

Every test runs twice: on the shipped 2024 contract and on the same contract moved to 2026
by the Contract terms page's own function (every date two years on, the spend and the
terms' dates moved the same way). Nothing in the engine may assume a year, so the amounts
and outcomes must be the same (issue 17's year-shift property).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
import pytest

from core import policy_edit
from core.evaluation import evaluate
from core.policy import POLICY_DIR, load_policy, parse_policy
from core.terms import ContractTerms, CustomerChange, ListedChange
from tests.conftest import MILLION_FEN, quarterly, row, rows, terms

M = 1_000_000  # RMB


@pytest.fixture(scope="module", params=[2024, 2026], ids=["2024", "moved_to_2026"])
def policy(request):
    if request.param == 2024:
        return load_policy("ocean_engine_2024")
    text = (POLICY_DIR / "ocean_engine_2024.toml").read_text(encoding="utf-8")
    return parse_policy(policy_edit.with_year(text, request.param), "ocean_engine_2026.toml")


def _years(policy) -> int:
    return policy.year_start.year - 2024


def _day(day: dt.date | None, policy) -> dt.date | None:
    return None if day is None else policy_edit.shift_day(day, _years(policy))


def moved_rows(policy, spend: list[dict]) -> pd.DataFrame:
    """The tests' 2024 rows on the policy's year."""
    return rows(*({**r, "date": _day(dt.date.fromisoformat(r["date"]), policy).isoformat()} for r in spend))


def moved_terms(policy, t: ContractTerms) -> ContractTerms:
    """The tests' 2024 terms on the policy's year: every date of the terms moved."""
    return replace(
        t, signed_on=_day(t.signed_on, policy), deposit_paid_on=_day(t.deposit_paid_on, policy),
        listed_changes=tuple(replace(c, notified_on=_day(c.notified_on, policy)) for c in t.listed_changes),
        customer_changes=tuple(replace(c, on=_day(c.on, policy)) for c in t.customer_changes),
    )


def ev(policy, spend, **kw):
    as_of = _day(kw.pop("as_of", None), policy)
    return evaluate(moved_rows(policy, spend), moved_terms(policy, terms(**kw)), policy, as_of)


# §1.1 counted toward completion (I.11, I.7, II.2(3))
@pytest.mark.parametrize("funding", ["return", "grant"])
def test_I_11_return_and_grant_funded_spend_never_counts(policy, funding):
    r = ev(policy, [row("2024-02-01", 10 * M, funding=funding)])
    assert r.actual_fen == 0 and r.bidding_base_fen == 0


@pytest.mark.parametrize("network", ["dongchedi", "xingfuli"])
def test_I_11_dongchedi_and_xingfuli_never_count(policy, network):
    assert ev(policy, [row("2024-02-01", M, network=network, bidding=False)]).actual_fen == 0


def test_I_7_bidding_counts_only_on_specific_networks(policy):
    r = ev(policy, [row("2024-02-01", M, network="other"), row("2024-02-01", 2 * M, network="csj")])
    assert r.actual_fen == 2 * MILLION_FEN and r.bidding_base_fen == 2 * MILLION_FEN


def test_I_11_non_bidding_counts_on_any_allowed_network_but_is_not_base(policy):
    r = ev(policy, [row("2024-02-01", M, network="other", bidding=False)])
    assert r.actual_fen == MILLION_FEN and r.bidding_base_fen == 0


@pytest.mark.parametrize(
    "platform,counted,base",
    [("dou_plus", 0, 0), ("other", 0, 0), ("dou_plus_upgraded", 1, 0), ("xingtu_service", 1, 0), ("xingtu_xgl", 1, 1), ("oesa", 1, 1), ("local", 1, 1)],
)
def test_I_11_I_15_platforms(policy, platform, counted, base):
    r = ev(policy, [row("2024-02-01", M, platform=platform)])
    assert (r.actual_fen, r.bidding_base_fen) == (counted * MILLION_FEN, base * MILLION_FEN)


def test_I_5_brand_bidding_counts_but_is_not_in_the_base(policy):
    r = ev(policy, [row("2024-02-01", M, brand_bidding=True)])
    assert r.actual_fen == MILLION_FEN and r.bidding_base_fen == 0


def test_II_2_3_non_bidding_framework_excludes_non_bidding_brand_bidding_and_xingtu_service(policy):
    spend = [
        row("2024-02-01", M, bidding=False),
        row("2024-02-01", M, brand_bidding=True),
        row("2024-02-01", M, platform="xingtu_service"),
        row("2024-02-01", 3 * M),
    ]
    assert ev(policy, spend).actual_fen == 6 * MILLION_FEN
    assert ev(policy, spend, non_bidding_framework=True).actual_fen == 3 * MILLION_FEN


# §1.3 rows excluded by time
def test_III_5_added_customer_counts_from_the_quarter_of_confirmation(policy):
    spend = [row("2024-05-01", M, customer="New Co"), row("2024-08-01", 2 * M, customer="New Co")]
    change = CustomerChange("New Co", "added", dt.date(2024, 8, 20))
    r = ev(policy, spend, customer_changes=(change,))
    assert r.actual_fen == 2 * MILLION_FEN and r.bidding_base_fen == 2 * MILLION_FEN


def test_V_1_association_lost_stops_counting_from_the_quarter_of_the_change(policy):
    spend = [row("2024-05-01", M, customer="Old Co"), row("2024-10-01", 2 * M, customer="Old Co")]
    change = CustomerChange("Old Co", "association_lost", dt.date(2024, 10, 2))
    assert ev(policy, spend, customer_changes=(change,)).actual_fen == MILLION_FEN


def test_IV_1_3_rows_before_the_deposit_quarter_count_but_earn_no_return(policy):
    r = ev(policy, [row("2024-03-01", M), row("2024-04-01", M)], deposit_paid_on=dt.date(2024, 4, 10), customer_type="new")
    assert r.actual_fen == 2 * MILLION_FEN and r.bidding_base_fen == MILLION_FEN
    assert r.pre_return_fen[0] == 0 and r.pre_return_fen[1] == 27_000 * 100


def test_VIII_3_deposit_never_paid_means_not_effective(policy):
    r = ev(policy, quarterly(20 * M, 20 * M, 20 * M, 20 * M), deposit_paid_on=None)
    assert r.year_end_rule == "not_effective"
    assert r.pre_return_fen == (0, 0, 0, 0) and r.final_return_fen == 0
    assert r.deposit_deducted_fen == 0 and r.deposit_refundable_fen == 0


# §2 rates (III.1)
@pytest.mark.parametrize(
    "platform,model,cls,rate",
    [
        ("local", "brand", "B2", "0.049"), ("local", "agency", "E1", "0.010"), ("local", "kol", "D", "0"),
        ("ocean_ads", "brand", "C2", "0.038"), ("oesa", "kol", "B1", "0.010"), ("ocean_ads", "agency", "B1", "0"),
        ("xingtu_xgl", "assortment", "B2", "0.010"), ("ocean_ads", "distribution", "B2", "0.029"),
        ("ocean_ads", "agency", "E1", "0"), ("ocean_ads", "agency", "E2", "0.010"),
    ],
)
def test_III_1_rate_table(policy, platform, model, cls, rate):
    r = ev(policy, [row("2024-02-01", 10 * M, platform=platform, business_model=model, industry_class=cls)])
    assert r.pre_return_fen[0] == round(float(rate) * 10 * M * 100)


@pytest.mark.parametrize(
    "special,cls,expected_rate",
    [("class_i_medical", "B1", 0), ("class_i_other", "B1", 1), ("special_authority", "B2", 0), ("special_authority", "C1", 1)],
)
def test_III_1_2_class_e_mapping(policy, special, cls, expected_rate):
    """Agency model tells E1 (0) from E2 (1 %) apart: 1 % of 10M is 100,000 RMB."""
    r = ev(policy, [row("2024-02-01", 10 * M, business_model="agency", industry_class=cls, special=special)])
    assert r.pre_return_fen[0] == expected_rate * 100_000 * 100


def test_III_1_2_special_authority_in_class_D_is_rejected(policy):
    from core.validate import normalise_spend

    parsed = normalise_spend(pd.DataFrame([row("2024-02-01", M, industry_class="D", special="special_authority")], dtype=object))
    assert parsed.errors and parsed.errors[0].column == "special" and parsed.rows.empty


def test_III_1_4_listed_from_the_notice_quarter_never_retroactive(policy):
    spend = [row("2024-02-01", 10 * M), row("2024-05-01", 10 * M)]
    listed = ListedChange("Jinan Yanling", dt.date(2024, 6, 30), True, "E2")
    r = ev(policy, spend, listed_changes=(listed,))
    assert r.pre_return_fen[:2] == (270_000 * 100, 100_000 * 100)


def test_III_1_4_unlisted_from_the_quarter_after_the_notice(policy):
    spend = [row(d, 10 * M) for d in ("2024-02-01", "2024-05-01", "2024-08-01")]
    changes = (
        ListedChange("Jinan Yanling", dt.date(2024, 1, 5), True, "D"),
        ListedChange("Jinan Yanling", dt.date(2024, 5, 5), False),
    )
    r = ev(policy, spend, listed_changes=changes)
    assert r.pre_return_fen[:3] == (0, 0, 270_000 * 100)


def test_III_1_3_2_kol_reusing_xingtu_video_is_rated_as_brand(policy):
    r = ev(policy, [row("2024-02-01", 10 * M, business_model="kol", kol_reuses_xingtu_video=True)])
    assert r.pre_return_fen[0] == 270_000 * 100
    assert "kol_reuse_as_brand" in r.reading_ids


def test_III_1_3_1_traffic_ecommerce_is_capped_at_class_A(policy):
    r = ev(policy, [row("2024-02-01", 10 * M, industry_class="C2", ad_model="traffic_ecommerce")])
    assert r.pre_return_fen[0] == 160_000 * 100


def test_III_3_1_reduction_never_goes_below_zero(policy):
    spend = quarterly(5 * M, 0, 0, 0) + [row("2024-05-01", 5 * M, industry_class="E1", business_model="brand")]
    r = ev(policy, spend)
    assert r.assessment_630 == "reduced" and r.pre_return_fen[1] == 0


# §4 checkpoints
@pytest.mark.parametrize(
    "h1_fen_offset,expected",
    [(0, "reduced"), (-1, "terminated")],
)
def test_III_3_630_band_lower_edge_is_inclusive(policy, h1_fen_offset, expected):
    spend = [row("2024-05-01", (10 * M * 100 + h1_fen_offset) / 100)]
    assert ev(policy, spend).assessment_630 == expected


@pytest.mark.parametrize("h1_fen_offset,expected", [(0, "pass"), (-1, "reduced")])
def test_III_3_630_pass_edge_is_inclusive(policy, h1_fen_offset, expected):
    spend = [row("2024-05-01", (15 * M * 100 + h1_fen_offset) / 100)]
    assert ev(policy, spend).assessment_630 == expected


def test_III_3_new_customers_are_not_assessed_at_630(policy):
    assert ev(policy, quarterly(1, 0, 0, 0), customer_type="new").assessment_630 == "not_applicable"


def test_III_3_signed_on_june_30_is_not_assessed(policy):
    assert ev(policy, quarterly(1, 0, 0, 0), signed_on=dt.date(2024, 6, 30)).assessment_630 == "not_applicable"
    assert ev(policy, quarterly(1, 0, 0, 0), signed_on=dt.date(2024, 6, 29)).assessment_630 == "terminated"


def test_III_3_termination_claws_back_q1_and_forfeits_the_deposit(policy):
    r = ev(policy, quarterly(5 * M, 4 * M, 30 * M, 30 * M))
    assert r.assessment_630 == "terminated" and r.year_end_rule == "terminated"
    assert r.pre_return_fen == (135_000 * 100, 0, 0, 0)
    assert r.credited_fen == (135_000 * 100, 0, 0)
    assert r.final_return_fen == 0 and r.clawback_fen == 135_000 * 100
    assert r.deposit_deducted_fen == 500_000 * 100 and r.deposit_refundable_fen == 0


def test_III_3_pending_before_june_30(policy):
    r = ev(policy, quarterly(5 * M, 0, 0, 0), as_of=dt.date(2024, 6, 29))
    assert r.assessment_630 == "pending" and r.assessment_930 == "pending" and r.year_end_rule == "pending"
    assert r.final_return_fen is None and r.deposit_deducted_fen is None


@pytest.mark.parametrize("offset,expected", [(0, "pass"), (-1, "q3_withheld")])
def test_III_4_930_edge_is_inclusive(policy, offset, expected):
    spend = [row("2024-05-01", 15 * M), row("2024-08-01", (15 * M * 100 + offset) / 100)]
    r = ev(policy, spend)
    assert r.assessment_930 == expected
    assert (r.credited_fen[2] == 0) == (expected == "q3_withheld")


# §5 year end
@pytest.mark.parametrize("q3_fen,expected", [(5 * M * 100, "shortfall"), (5 * M * 100 - 1, "below_threshold")])
def test_III_2_2_industry_threshold_edge(policy, q3_fen, expected):
    """food_beverage: 20,000,000 exactly is not below the threshold; one fen less is."""
    r = ev(policy, quarterly(10 * M, 5 * M, q3_fen / 100, 0), main_industry="food_beverage", previous_year_fen=0)
    assert r.year_end_rule == expected


def test_III_2_2_below_2023_amount_beats_a_met_target(policy):
    r = ev(policy, quarterly(20 * M, 20 * M, 20 * M, 20 * M), target_fen=60 * MILLION_FEN, previous_year_fen=81 * MILLION_FEN)
    assert r.completion_rate > 1 and r.year_end_rule == "below_threshold"
    assert r.final_return_fen == 0 and "threshold_before_target" in r.reading_ids


@pytest.mark.parametrize("offset,expected", [(0, "target_met"), (-1, "shortfall")])
def test_III_2_2_target_met_edge_is_inclusive(policy, offset, expected):
    spend = quarterly(20 * M, 10 * M, 10 * M, (10 * M * 100 + offset) / 100)
    assert ev(policy, spend).year_end_rule == expected


def test_III_2_2_target_met_recalculates_at_agreed_rates_including_withheld_q3(policy):
    r = ev(policy, quarterly(12.5 * M, 0, 10 * M, 30 * M))
    assert r.assessment_630 == "reduced" and r.assessment_930 == "q3_withheld"
    assert r.final_return_fen == round(52.5 * M * 0.027 * 100)
    assert r.year_end_settlement_fen == r.final_return_fen - r.credited_fen[0]


def test_III_2_2_shortfall_factor_scales_the_entitlement(policy):
    base = ev(policy, quarterly(20 * M, 10 * M, 10 * M, 5 * M))
    half = ev(policy, quarterly(20 * M, 10 * M, 10 * M, 5 * M), shortfall_factor=__import__("decimal").Decimal("0.5"))
    assert half.final_return_fen * 2 == base.final_return_fen
    assert half.clawback_fen == max(sum(half.credited_fen) - half.final_return_fen, 0)


def test_III_2_2_3_listed_class_E_earns_nothing_in_a_shortfall_below_50M(policy):
    listed = (ListedChange("Listed Co", dt.date(2024, 1, 2), True, "E2"),)
    spend = quarterly(20 * M, 10 * M, 10 * M, 5 * M) + [row("2024-02-01", 4 * M, customer="Listed Co")]
    r = ev(policy, spend, listed_changes=listed)
    assert r.actual_fen == 49 * MILLION_FEN and r.year_end_rule == "shortfall"
    assert r.final_return_fen == 45 * M * 27 / 1000 * 100


def test_III_2_2_3_listed_class_E_kept_at_50M(policy):
    listed = (ListedChange("Listed Co", dt.date(2024, 1, 2), True, "E2"),)
    spend = quarterly(20 * M, 10 * M, 10 * M, 6 * M) + [row("2024-02-01", 4 * M, customer="Listed Co")]
    r = ev(policy, spend, listed_changes=listed, target_fen=60 * MILLION_FEN)
    assert r.actual_fen == 50 * MILLION_FEN
    assert r.final_return_fen == (46 * M * 27 / 1000 + 4 * M * 10 / 1000) * 100


def test_IV_2_5_frame_splicing_forfeits_everything(policy):
    r = ev(policy, quarterly(20 * M, 20 * M, 20 * M, 20 * M), frame_splicing=True)
    assert r.year_end_rule == "forfeited" and r.final_return_fen == 0
    assert r.clawback_fen == sum(r.credited_fen) and r.deposit_deducted_fen == 500_000 * 100


# §7 deposit
@pytest.mark.parametrize("q3_fen,deducted", [(5 * M * 100, 150_000 * 100), (5 * M * 100 - 1, 500_000 * 100)])
def test_IV_2_regular_deduction_band_edge_at_70pct(policy, q3_fen, deducted):
    """Exactly 70 %: 30 % of the deposit is deducted; one fen less: all of it."""
    r = ev(policy, quarterly(20 * M, 10 * M, q3_fen / 100, 0))
    assert r.deposit_deducted_fen == deducted


@pytest.mark.parametrize("amount_fen,deducted", [(45 * M * 100, 250_000 * 100), (45 * M * 100 - 1, 500_000 * 100)])
def test_IV_2_new_customer_deduction_band_edge_at_90pct(policy, amount_fen, deducted):
    spend = quarterly(20 * M, 10 * M, 10 * M, (amount_fen - 40 * M * 100) / 100)
    r = ev(policy, spend, customer_type="new", previous_year_fen=0)
    assert r.deposit_deducted_fen == deducted


def test_IV_2_party_b_completion_uses_party_b_target_and_accounts(policy):
    spend = quarterly(20 * M, 10 * M, 10 * M, 0) + [row("2024-11-01", 5 * M, via_party_b=False)]
    r = ev(policy, spend, party_b_target_fen=40 * MILLION_FEN)
    assert r.to_dict(policy)["party_b_completion_rate"] == 1.0
    assert r.year_end_rule == "shortfall" and r.deposit_deducted_fen == 0


def test_III_2_2_3_clawback_order_deposit_left_after_deduction_first(policy):
    r = ev(policy, quarterly(30 * M, 10 * M, 10 * M, 0), previous_year_fen=60 * MILLION_FEN)
    assert r.year_end_rule == "below_threshold" and r.deposit_deducted_fen == 500_000 * 100
    assert r.clawback_from_deposit_fen == 0 and r.deposit_refundable_fen == 0
    r2 = ev(policy, quarterly(20 * M, 10 * M, 10 * M, 0), shortfall_factor=__import__("decimal").Decimal("0.5"))
    assert r2.deposit_deducted_fen == 100_000 * 100
    assert r2.clawback_from_deposit_fen == min(r2.clawback_fen, 400_000 * 100)
    assert r2.deposit_refundable_fen == 400_000 * 100 - r2.clawback_from_deposit_fen


def test_IV_2_deduction_curve_matches_settlement_at_every_band_edge(policy):
    import numpy as np

    from core.deposit import deduction_curve

    t = moved_terms(policy, terms(previous_year_fen=20 * MILLION_FEN))
    curve = deduction_curve(t, policy, np.array([0.3999, 0.6, 0.6999, 0.7, 0.85, 0.9999, 1.0, 1.1]))
    deposit = 500_000 * 100
    # 0.3999 < 20M/50M... threshold 30M = 0.6: below it all is deducted
    assert list(curve[:3]) == [deposit, deposit, deposit]
    assert curve[3] == deposit * 3 // 10 and curve[4] == deposit * 15 // 100
    assert curve[5] == 50 * 100 and curve[6] == 0 and curve[7] == 0


def test_III_3_1_reduction_cost_is_one_point_of_the_q2_to_q4_base(policy):
    from core.assessments import reduction_cost_fen
    from core.engine import totals_from_rows

    spend = quarterly(10 * M, 10 * M, 10 * M, 10 * M) + [row("2024-05-01", 5 * M, industry_class="E1")]
    totals = totals_from_rows(moved_rows(policy, spend), moved_terms(policy, terms()), policy, policy.year_end)
    # Q2–Q4 base 35M: every row loses one full point (the E1 row goes from 1 % to exactly 0).
    assert reduction_cost_fen(totals, policy) == (30 * M * 1 // 100 + 5 * M * 1 // 100) * 100


def test_III_4_settlement_waterfall_adds_up(policy):
    """The Returns page's waterfall (core.year_end.settlement_steps): pre-returns less what was
    withheld is what was credited; credited plus the recalculation is the entitlement E (§5.1–5.2)."""
    from core.assessments import withheld_by_930_fen
    from core.year_end import settlement_steps

    pre, credited = [1_000_00, 2_000_00, 3_000_00, 4_000_00], [1_000_00, 2_000_00, 0]
    steps = dict((key, fen) for key, fen, _ in settlement_steps(pre, credited, 5_500_00))
    assert steps["pre_returns"] + steps["withheld"] == steps["credited"] == 3_000_00
    assert steps["credited"] + steps["recalc"] == steps["final"] == 5_500_00
    assert withheld_by_930_fen(pre, policy) == 3_000_00  # Q3, the quarter a failed 930 withholds
    assert dict((k, f) for k, f, _ in settlement_steps(pre, credited, None))["final"] == 0  # no entitlement yet


def test_expiring_balance_counts_both_edges_of_the_30_day_window():
    from core.ledger import expiring_balance_fen

    day = dt.date(2024, 8, 1)
    ledger = pd.DataFrame({"expiry": [day - dt.timedelta(days=1), day, day + dt.timedelta(days=30), day + dt.timedelta(days=31)],
                           "balance_at_as_of_fen": [1, 10, 100, 1000]})
    assert expiring_balance_fen(ledger, day) == 110
    assert expiring_balance_fen(ledger, day, within_days=31) == 1110
