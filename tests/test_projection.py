"""Projections: plan ≡ evaluate, Monte-Carlo properties, required spend edges, FIFO ledger."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.evaluation import evaluate
from core.forecast import make_forecast, segment_history
from core.ledger import Credit, consume
from core.outlook import outlook
from core.projection import project
from core.required_spend import required_spend
from core.validate import normalise_spend
from tests.conftest import demo_scenario, examples

D = dt.date
SCEN = demo_scenario()
POLICY, TERMS = SCEN.policy, SCEN.terms


def actual_until(day: dt.date) -> pd.DataFrame:
    return SCEN.spend[SCEN.spend["date"] <= pd.Timestamp(day)].reset_index(drop=True)


def planned_rows(history, plan: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The plan as ordinary cash spend rows on the first future day of each month."""
    items = []
    seg = history.segments.set_index("account_id")
    for r in plan.itertuples():
        first = max(pd.Timestamp(f"{r.month}-01"), pd.Timestamp(as_of) + pd.Timedelta(days=1))
        attrs = seg.loc[str(r.account_id)].to_dict()
        items.append({**attrs, "account_id": str(r.account_id), "date": first.strftime("%Y-%m-%d"), "funding": "cash",
                      "amount": f"{r.amount_fen // 100}.{r.amount_fen % 100:02d}"})
    return normalise_spend(pd.DataFrame(items, dtype=object)).rows


@settings(max_examples=examples(12), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_plan_projection_equals_evaluate_of_actual_plus_planned_rows(data):
    as_of = data.draw(st.sampled_from([D(2024, 3, 31), D(2024, 6, 12), D(2024, 9, 30), D(2024, 11, 20)]))
    rows = actual_until(as_of)
    history = segment_history(rows, POLICY, as_of)
    months = pd.period_range(pd.Timestamp(as_of) + pd.Timedelta(days=1), "2024-12", freq="M").strftime("%Y-%m")
    accounts = history.segments["account_id"].tolist()
    amounts = data.draw(st.lists(st.integers(0, 3_000_000_00), min_size=len(months) * len(accounts),
                                 max_size=len(months) * len(accounts)))
    plan = pd.DataFrame([(m, a) for m in months for a in accounts], columns=["month", "account_id"]).assign(amount_fen=amounts)
    result = outlook(rows, TERMS, POLICY, as_of, "plan", paths=3, plan=plan)
    expected = evaluate(pd.concat([rows, planned_rows(history, plan, as_of)], ignore_index=True), TERMS, POLICY)
    for o in (result.expected.outcome, result.projection.outcome):
        assert set(o.final_return) == {expected.final_return_fen}
        assert set(o.deposit_deducted) == {expected.deposit_deducted_fen}
        assert set(o.clawback) == {expected.clawback_fen}
        assert set(o.year_end_rule) == {expected.year_end_rule}
        assert [set(o.pre_return[:, q]) for q in range(4)] == [{v} for v in expected.pre_return_fen]
        assert set(o.actual) == {expected.actual_fen}


def _projection(day, paths=2000, seed=7, scale=1.0, quiet=False):
    rows = actual_until(day)
    history = segment_history(rows, POLICY, day)
    fc = make_forecast("run_rate", history, POLICY, day)
    fc = replace(fc, mean=fc.mean * scale)
    if quiet:
        fc = replace(fc, bands=None)
    return project(rows, history, fc, TERMS, POLICY, day, paths, seed)


def test_monte_carlo_is_reproducible_with_a_seed():
    a, b = _projection(D(2024, 8, 1)), _projection(D(2024, 8, 1))
    assert a.probabilities() == b.probabilities() and a.distributions() == b.distributions()
    assert _projection(D(2024, 8, 1), seed=8).distributions() != a.distributions()


def test_summaries_are_computed_once_per_projection_and_a_callers_edit_never_leaks():
    """core.memo: the summaries a page reads several times a run are reduced from the paths
    once; each call gets its own copy, equal to a fresh reduction."""
    p = _projection(D(2024, 8, 1))
    first = p.probabilities()
    first["target_met"]["yes"] = 42.0  # a caller editing its copy
    again = p.probabilities()
    fresh = _projection(D(2024, 8, 1)).probabilities()
    assert again == fresh and again["target_met"]["yes"] != 42.0
    assert p.expected_fen() == _projection(D(2024, 8, 1)).expected_fen()
    assert "_memo_probabilities" in p.__dict__ and "_memo_distributions" not in p.__dict__


def test_with_zero_variance_probabilities_are_0_or_1_and_match_the_deterministic_result():
    quiet = _projection(D(2024, 8, 1), paths=500, quiet=True)
    one = _projection(D(2024, 8, 1), paths=1, quiet=True)
    for table in quiet.probabilities().values():
        assert set(table.values()) <= {0.0, 1.0}
    assert quiet.probabilities()["year_end_rule"][str(one.outcome.year_end_rule[0])] == 1.0
    assert set(quiet.outcome.final_return) == {one.outcome.final_return[0]}


def test_probabilities_are_monotone_in_the_run_rate():
    met = [_projection(D(2024, 8, 1), scale=k).probabilities()["target_met"]["yes"] for k in (0.8, 0.95, 1.05, 1.2, 1.5)]
    assert met == sorted(met) and met[0] < met[-1]
    deducted = [_projection(D(2024, 8, 1), scale=k).distributions()["deposit_deducted"]["mean"] for k in (0.8, 1.0, 1.2)]
    assert deducted == sorted(deducted, reverse=True)


@pytest.mark.parametrize("key", ["930_pass", "target"])
def test_spending_exactly_the_required_amount_meets_the_checkpoint_and_one_fen_less_misses(key):
    as_of = D(2024, 8, 15)
    rows = actual_until(as_of)
    req = next(r for r in required_spend(rows, TERMS, POLICY, as_of, 1.0) if r.key == key)
    assert req.status != "reached" and req.needed_fen > 0

    def with_extra(fen):
        extra = rows.iloc[[0]].copy()
        extra["date"], extra["amount_fen"], extra["funding"] = pd.Timestamp(req.by), fen, "cash"
        return evaluate(pd.concat([rows, extra], ignore_index=True), TERMS, POLICY, req.by)

    field = "jan_sep_fen" if key == "930_pass" else "actual_fen"
    exact, short = with_extra(req.needed_fen), with_extra(req.needed_fen - 1)
    assert getattr(exact, field) * 100 >= TERMS.target_fen * int(req.share * 100)
    assert getattr(short, field) * 100 < TERMS.target_fen * int(req.share * 100)
    assert req.per_day_fen * req.days_left >= req.needed_fen > (req.per_day_fen - 1) * req.days_left


def test_required_spend_says_reached_and_unreachable():
    reqs = {r.key: r for r in required_spend(actual_until(D(2024, 12, 20)), TERMS, POLICY, D(2024, 12, 20), 1.0)}
    assert reqs["630_pass"].status == "reached" and reqs["930_pass"].status == "reached"
    assert reqs["target"].status == "unreachable" and reqs["target"].multiple_of_run_rate > 3


def _credit(q, amount, credit, expiry, bucket="ocean_ads/feed/other"):
    return Credit(q, bucket, amount, credit, expiry)


def test_fifo_uses_the_credit_that_expires_first_and_reports_the_unused_rest():
    credits = [_credit("Q1", 1000, D(2024, 4, 20), D(2024, 7, 19)), _credit("Q2", 500, D(2024, 7, 20), D(2024, 10, 18))]
    use = pd.DataFrame({"date": pd.date_range("2024-07-01", "2024-07-31"), "bucket": "ocean_ads/feed/other", "fen": 40.0})
    ledger = consume(credits, use, D(2024, 6, 30)).set_index("quarter")
    # Q1: 19 days x 40 = 760 used before it expires on 07-19 -> 240 unused. Q2: 12 days x 40 = 480 -> 20 left.
    assert ledger.loc["Q1", "projected_unused_fen"] == 240
    assert ledger.loc["Q2", "projected_unused_fen"] == 20
    assert ledger.loc["Q1", "needed_per_day_fen"] == -(-1000 // 19)


def test_credits_are_only_consumed_in_their_own_bucket():
    credits = [_credit("Q1", 100, D(2024, 4, 20), D(2024, 7, 19), bucket="local/feed/other")]
    use = pd.DataFrame({"date": pd.date_range("2024-05-01", periods=10), "bucket": "ocean_ads/feed/other", "fen": 50.0})
    assert consume(credits, use, D(2024, 4, 30))["projected_unused_fen"].tolist() == [100]


def test_outlook_of_the_demo_client_combines_methods_and_shows_its_track_record():
    o = outlook(actual_until(D(2024, 9, 15)), TERMS, POLICY, D(2024, 9, 15), paths=1000)
    assert o.method == "combined" and "learned from" in o.method_reason
    assert abs(sum(o.weights.values()) - 1) < 1e-9 and all(w >= 0 for w in o.weights.values())
    # the track record: earlier bands for the quarter ends that have passed (Mar 31, Jun 30), ordered bands
    assert set(o.track_record["target"]) == {D(2024, 3, 31), D(2024, 6, 30)}
    assert (o.track_record["p10"] <= o.track_record["p50"]).all() and (o.track_record["p50"] <= o.track_record["p90"]).all()
    assert (o.track_record["origin"] < o.track_record["target"]).all()
    assert (o.ledger["expiry"] >= o.ledger["credit_date"]).all()
    assert np.all(np.diff(o.fan["p50"]) >= 0) and (o.fan["p10"] <= o.fan["p90"]).all()


def test_negotiation_compares_targets_on_the_same_paths():
    from core.negotiation import break_even_target, compare_targets

    rows = actual_until(D(2024, 10, 31))  # 40.2M spent: the first target is already met, the last out of reach
    targets = [40_000_000_00, 45_000_000_00, 50_000_000_00, 150_000_000_00]
    table = compare_targets(rows, TERMS, POLICY, D(2024, 10, 31), targets, "run_rate", paths=500)
    assert table["p_target_met"].is_monotonic_decreasing
    assert table["p_target_met"].iloc[0] == 1.0 and table["p_target_met"].iloc[-1] == 0.0
    assert table["expected_deposit_loss_fen"].iloc[0] == 0
    same = compare_targets(rows, TERMS, POLICY, D(2024, 10, 31), targets[2:3], "run_rate", paths=500)
    assert same["expected_net_fen"].iloc[0] == table["expected_net_fen"].iloc[2]
    assert break_even_target(table) in targets
    from core.negotiation import best_targets

    everyone_positive = table.assign(expected_net_fen=table["expected_net_fen"].abs() + 1)
    assert break_even_target(everyone_positive) is None  # the top of the typed range is not a break-even
    tied = table.assign(expected_net_fen=5.0)
    assert best_targets(tied) == (min(targets), max(targets))  # a tie is a range, not the lowest candidate


def test_typed_rows_rebuild_validated_rows_exactly():
    """Projection builds synthetic rows from validated values without re-parsing them; the
    result must be what validation itself produces."""
    from core.spend import typed_rows

    rows = SCEN.spend.head(500)
    rebuilt = typed_rows(rows.drop(columns="source_row").astype(object).assign(amount_fen=rows["amount_fen"]))
    pd.testing.assert_frame_equal(rebuilt.drop(columns="source_row"), rows.drop(columns="source_row").reset_index(drop=True))


def test_the_floor_row_is_the_spend_that_keeps_the_year_above_threshold():
    """The required-spend table has the binding floor (industry threshold or previous year):
    exactly its need avoids below_threshold, one fen less does not."""
    as_of = D(2024, 8, 15)
    rows = actual_until(as_of)
    req = next(r for r in required_spend(rows, TERMS, POLICY, as_of, 1.0) if r.key == "threshold")
    assert req.level_fen == max(TERMS.previous_year_fen, int(POLICY.threshold(TERMS.customer_type, TERMS.main_industry) * 100))
    assert req.by == POLICY.year_end and req.needed_fen > 0

    def rule_with(fen):
        extra = rows.iloc[[0]].copy()
        extra["date"], extra["amount_fen"], extra["funding"] = pd.Timestamp(req.by), fen, "cash"
        return evaluate(pd.concat([rows, extra], ignore_index=True), TERMS, POLICY, req.by).year_end_rule

    assert rule_with(req.needed_fen) != "below_threshold" and rule_with(req.needed_fen - 1) == "below_threshold"


@pytest.mark.parametrize("case", ["floor", "target", "on_course"])
def test_the_headline_names_the_outcome_that_drives_the_money_at_risk_and_its_remedy(case):
    from core.headline import headline

    terms, day = {"floor": (replace(TERMS, previous_year_fen=60_000_000_00), D(2024, 9, 15)),
                  "target": (TERMS.with_target(100_000_000_00), D(2024, 9, 15)),
                  "on_course": (TERMS.with_target(40_000_000_00), D(2024, 10, 31))}[case]
    view = outlook(actual_until(day), terms, POLICY, day, paths=2000)
    h = headline(view)
    expected = view.projection.expected_fen()
    assert h.at_risk_fen == expected["deposit_deducted"] + expected["clawback"]
    if case == "on_course":
        assert h.kind == "on_course" and h.requirement is None
        return
    rule, key = {"floor": ("below_threshold", "threshold"), "target": ("shortfall", "target")}[case]
    assert h.kind == "at_risk" and h.outcome == rule and h.requirement.key == key
    assert h.probability == view.projection.probabilities()["year_end_rule"][rule] > 0.5


@pytest.mark.parametrize("day", [D(2024, 3, 31), D(2024, 9, 15)])
def test_a_what_if_on_the_terms_settles_the_cached_stages_to_the_same_outlook(day):
    """The dashboard's what-if path (forecast stage + row stage reused, only the settlement
    redone) gives exactly the outlook computed from scratch, for every input the sidebar
    changes without touching a row rule."""
    from core.actuals import row_terms
    from core.outlook import forecast_stage, stage_rows

    rows = actual_until(day)
    stage = forecast_stage(rows, POLICY, day, paths=800)
    rs = stage_rows(rows, row_terms(TERMS, POLICY), POLICY, stage)
    for what_if in (replace(TERMS, target_fen=40_000_000_00), replace(TERMS, target_fen=70_000_000_00),
                    replace(TERMS, customer_type="new"), replace(TERMS, previous_year_fen=60_000_000_00),
                    replace(TERMS, main_industry="other", deposit_fen=1_000_000_00),
                    replace(TERMS, deposit_paid_on=D(2024, 1, 2)), replace(TERMS, deposit_paid_on=D(2023, 12, 20))):  # Q1 / before the year: the same deposit quarter as Mar 8
        assert row_terms(what_if, POLICY) == row_terms(TERMS, POLICY)
        fresh = outlook(rows, what_if, POLICY, day, paths=800).to_dict()
        assert outlook(rows, what_if, POLICY, day, stage=stage, rows_stage=rs).to_dict() == fresh
    for other_quarter in (D(2024, 4, 1), D(2025, 1, 1)):  # Q2; after the year (never earns): a new stage
        assert row_terms(replace(TERMS, deposit_paid_on=other_quarter), POLICY) != row_terms(TERMS, POLICY)
    assert row_terms(replace(TERMS, deposit_paid_on=None), POLICY) != row_terms(TERMS, POLICY)


@pytest.mark.parametrize("cell_fen", [3_000_000_00, 5 * 10**14])
def test_projected_totals_are_exact_whatever_the_size_of_the_paths(cell_fen):
    """Σ cash × rate of a projection is int64 only while it cannot wrap around; a path of an
    absurd size (5 × 10^14 fen a segment and quarter, × 10 % × 3 segments > 2^62) is summed in
    Python integers — the same figures as a plain Python sum, never a wrapped-around number."""
    from core.money import INT64_SAFE
    from core.projection import SegmentFactors, projected_totals, whole_fen
    from core.rates import N_ZERO_GROUPS

    f = SegmentFactors(counted=np.ones((3, 4), bool), party_b=np.ones((3, 4), bool), base=np.ones((3, 4), bool),
                       ppm=np.full((3, 4), 100_000, dtype=np.int64), zero_group=np.zeros((3, 4), dtype=np.int8))
    cash = np.full((2, 3, 4), float(cell_fen))
    absurd = cell_fen * 100_000 * 3 >= INT64_SAFE
    assert (whole_fen(cash, f).dtype == object) == absurd
    t = projected_totals(cash, f, POLICY)
    reduction = int(POLICY.assessment_630.rate_reduction * 1_000_000)
    assert t.counted[0, 0] == 3 * cell_fen and t.agreed_units.dtype == (object if absurd else np.int64)
    assert t.agreed_units[1, 3, 0] == 3 * cell_fen * 100_000
    assert t.reduced_units[1, 3, 0] == 3 * cell_fen * (100_000 - reduction)
    assert all(t.agreed_units[0, 0, g] == 0 for g in range(1, N_ZERO_GROUPS))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 5), st.integers(1, 6), st.integers(0, 2**32), st.sampled_from([1e7, 1e15]))
def test_projected_totals_equal_a_plain_python_sum_cell_by_cell(segments, paths, seed, scale):
    """projected_totals sums with einsum: every total equals Σ over segments of the whole-fen
    cash × its factors in Python integers — counted, Party B, base and the units per zero
    group — on the int64 path and on the Python-integer one (scale 1e15), empty segments too."""
    from core.projection import SegmentFactors, projected_totals, whole_fen
    from core.rates import N_ZERO_GROUPS

    rng = np.random.default_rng(seed)
    f = SegmentFactors(rng.random((segments, 4)) < 0.8, rng.random((segments, 4)) < 0.3, rng.random((segments, 4)) < 0.7,
                       rng.integers(0, 60_000, (segments, 4)).astype(np.int64),
                       rng.integers(0, N_ZERO_GROUPS, (segments, 4)).astype(np.int8))
    cash = rng.gamma(2.0, scale, (paths, segments, 4))
    t = projected_totals(cash, f, POLICY)
    whole = whole_fen(cash, f)
    reduced = np.maximum(f.ppm - int(POLICY.assessment_630.rate_reduction * 1_000_000), 0)
    for p_ in range(paths):
        for q in range(4):
            cells = [(int(whole[p_, s_, q]), s_) for s_ in range(segments)]
            assert t.counted[p_, q] == sum(c for c, s_ in cells if f.counted[s_, q])
            assert t.party_b[p_, q] == sum(c for c, s_ in cells if f.party_b[s_, q])
            assert t.base[p_, q] == sum(c for c, s_ in cells if f.base[s_, q])
            for g in range(N_ZERO_GROUPS):
                mine = [(c, s_) for c, s_ in cells if f.base[s_, q] and f.zero_group[s_, q] == g]
                assert t.agreed_units[p_, q, g] == sum(c * int(f.ppm[s_, q]) for c, s_ in mine)
                assert t.reduced_units[p_, q, g] == sum(c * int(reduced[s_, q]) for c, s_ in mine)
    assert t.agreed_units.shape == (paths, 4, N_ZERO_GROUPS) and t.counted.dtype == whole.dtype


@pytest.mark.slow  # 100,000 rows through the row rules
def test_a_year_of_absurd_but_valid_amounts_is_counted_exactly_not_wrapped_around():
    """Each row may be up to 10^12 RMB (10^14 fen); 100,000 such rows sum to 10^19 fen,
    past int64. The engine's quarter sums and the daily counted chart switch to Python
    integers (core.money.summable) and give the exact totals."""
    from core.engine import totals_from_rows
    from core.progress import daily_counted
    from tests.conftest import row as spend_row
    from tests.conftest import terms as make_terms

    one = normalise_spend(pd.DataFrame([spend_row("2024-02-01", "1000000000000")], dtype=object)).rows
    big = pd.concat([one] * 100_000, ignore_index=True)
    t, end = make_terms(target_fen=10**21), D(2024, 12, 31)
    totals, single = totals_from_rows(big, t, POLICY, end), totals_from_rows(one, t, POLICY, end)
    assert totals.counted[0, 0] == 100_000 * 10**14 > 2**63
    assert totals.agreed_units[0].sum() == 100_000 * single.agreed_units[0].sum() > 0
    assert int(daily_counted(big, t, POLICY, end)["cumulative_fen"].iloc[-1]) == 100_000 * 10**14


def test_a_history_read_from_segments_named_once_equals_one_named_afresh_at_every_date():
    """Why a date change may reuse the year's segments (core.forecast.spend_segments): at any
    date, the history read from segments named on the whole year equals the history of only
    the rows up to that date named afresh — the same segments in the same order, the same
    daily spend — even when the rows are not in date order."""
    from core.forecast import spend_segments
    from tests.conftest import demo_scenario

    scen = demo_scenario()
    shuffled = scen.spend.sample(frac=1.0, random_state=3).reset_index(drop=True)
    once = spend_segments(shuffled, scen.policy)
    for day in (dt.date(2023, 12, 31), dt.date(2024, 1, 1), dt.date(2024, 2, 29), dt.date(2024, 9, 15), dt.date(2025, 3, 1)):
        kept = shuffled[shuffled["date"] <= pd.Timestamp(day)]
        a, b = once.history(day), spend_segments(kept, scen.policy).history(day)
        pd.testing.assert_frame_equal(a.segments, b.segments, check_dtype=False)
        assert a.days.equals(b.days) and np.array_equal(a.daily, b.daily), day
        assert (a.previous_year is None) == (b.previous_year is None)
        assert a.previous_year is None or np.array_equal(a.previous_year, b.previous_year)


def test_return_shares_read_from_named_rows_equal_the_shares_named_afresh():
    """`return_share` with the rows already named by segment (the dashboard's date change)
    equals naming the recent rows afresh, at dates whose 28-day window reaches into the
    previous year, for a history read from those segments and for one named elsewhere."""
    from core.forecast import spend_segments
    from core.projection import return_share
    from tests.conftest import demo_scenario

    scen = demo_scenario()
    rows = scen.spend.sample(frac=1.0, random_state=5).reset_index(drop=True)
    returned = rows.index % 4 == 0  # a quarter of the rows paid from return balances, in every segment
    rows["funding"] = rows["funding"].astype(object).where(~returned, "return")
    once = spend_segments(rows, scen.policy)
    for day in (dt.date(2024, 1, 10), dt.date(2024, 6, 30), dt.date(2024, 9, 15)):
        for history in (once.history(day), segment_history(rows, scen.policy, day)):  # the second: named elsewhere
            fast = return_share(rows, history, scen.policy, day, segmented=once)
            fresh = return_share(rows, history, scen.policy, day)
            assert fresh.max() > 0.1 and np.allclose(fast, fresh, rtol=0, atol=1e-12), day


@pytest.mark.parametrize("as_of", [D(2024, 3, 31), D(2024, 9, 15), D(2024, 12, 31)])
def test_candidate_targets_settle_one_years_totals_exactly_as_projecting_each(as_of):
    """core.negotiation.compare_targets projects the year once and settles it per target
    (core.projection.year_totals): the table equals projecting every target on its own, to
    the last bit — the row rules never read the target, so its totals are the same."""
    from dataclasses import fields

    from core.calibration import calibrated_forecast
    from core.error_model import load as load_error_model
    from core.negotiation import compare_targets
    from core.projection import year_totals

    rows, targets, paths = SCEN.spend, [30_000_000_00, 50_000_000_00, 80_000_000_00], 400
    table = compare_targets(rows, TERMS, POLICY, as_of, targets, "run_rate", paths=paths)
    history = segment_history(rows, POLICY, as_of)
    forecast = calibrated_forecast("run_rate", history, POLICY, as_of, load_error_model())[0]
    for target, row in zip(targets, table.itertuples()):
        alone = project(rows, history, forecast, TERMS.with_target(target), POLICY, as_of, paths)
        assert row.p_target_met == alone.probabilities()["target_met"]["yes"]
        assert row.expected_return_fen == np.asarray(alone.outcome.final_return, dtype=float).mean()
        assert row.expected_deposit_loss_fen == np.asarray(alone.outcome.deposit_deducted, dtype=float).mean()
        once = year_totals(rows, history, forecast, TERMS, POLICY, as_of, paths)
        by_target = year_totals(rows, history, forecast, TERMS.with_target(target), POLICY, as_of, paths)
        assert all(np.array_equal(getattr(once, f.name), getattr(by_target, f.name)) for f in fields(once))
