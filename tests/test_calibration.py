"""Learned uncertainty: the error model's quantiles, the draws built from them, the track
record, `python -m core calibrate` and the calibration benchmark (small size)."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.calibration import spend_year
from bench.synthetic import client_years
from core.calibration import (
    MIN_CELL,
    combined_prediction,
    fit,
    pool_from_rows,
    ratio_table,
    share_curve,
    track_record,
    windows,
)
from core.error_model import COMPONENTS, LEVELS, from_json, load, period
from core.forecast import Forecast, make_forecast, segment_history
from core.projection import draw_paths
from tests.conftest import demo_scenario, row, rows

ROOT = Path(__file__).resolve().parents[1]
D = dt.date


@pytest.fixture(scope="module")
def pool():
    return [spend_year(c) for c in client_years(40, seed=7)]


@pytest.fixture(scope="module")
def model(pool):
    return fit(pool, "test pool")


def test_share_curve_has_mean_one_and_sees_double_11(pool):
    curve = share_curve(pool)
    assert len(curve) == 366 and abs(curve.mean() - 1) < 1e-9
    nov = curve[(D(2024, 11, 1) - D(2024, 1, 1)).days: (D(2024, 11, 11) - D(2024, 1, 1)).days]
    feb = curve[(D(2024, 2, 5) - D(2024, 1, 1)).days: (D(2024, 2, 15) - D(2024, 1, 1)).days]
    assert nov.mean() > 1.0 > feb.mean()  # the pool's Double 11 peak and Spring Festival dip


def test_weights_are_on_the_simplex_and_quantiles_never_decrease(model):
    assert np.allclose(model.weights.sum(axis=-1), 1) and (model.weights >= 0).all()
    for table in model.ratios.values():
        assert (np.diff(table, axis=-1) >= -1e-12).all() and (table >= 0).all()


def test_combined_prediction_of_a_window_is_its_quarters_parts_each_with_its_own_mix(pool, model):
    """A window to quarter q's end sums the origin's quarter parts up to q, each mixed with
    that quarter's weights — the same path the product draws (core.forecast.combine)."""
    w = windows(pool[:5], model)
    got = combined_prediction(w, model.weights)
    origin = np.cumsum(w.first)
    for i in np.random.default_rng(3).choice(len(got), 200, replace=False):
        same = np.flatnonzero((origin == origin[i]) & (w.quarter <= w.quarter[i]))
        expected = sum(float(w.segment[j] @ model.weights[w.period[j], w.quarter[j]]) for j in same)
        assert got[i] == pytest.approx(expected, rel=1e-9)
    assert np.allclose(w.segment[w.first], w.predicted[w.first])  # an origin's first window is one part
    one_mix = np.repeat(model.weights[:, -1:, :], 4, axis=1)  # the same mix in every quarter = the plain weighted sum
    assert np.allclose(combined_prediction(w, one_mix), (w.predicted * one_mix[w.period, 0]).sum(axis=1))


def test_the_product_path_mixes_each_quarter_with_its_own_weights(model):
    """core.forecast.statistical draws the path the backtest scored: each future day's mix is its quarter's."""
    from core.forecast import combine, quarter_index

    days = pd.date_range("2024-06-16", "2024-12-31")
    paths = {m: np.full(len(days), float(i + 1)) for i, m in enumerate(COMPONENTS)}
    mix = model.quarter_weights(D(2024, 6, 15))
    path = combine(paths, mix, quarter_index(days))
    levels = np.arange(1, len(COMPONENTS) + 1, dtype=float)
    assert path[0] == pytest.approx(mix[1] @ levels) and path[-1] == pytest.approx(mix[3] @ levels)


def test_each_fitted_cell_holds_80_percent_of_its_own_windows_between_p10_and_p90(pool, model):
    """The quantile machinery itself: in-sample, a cell's P10–P90 holds ~80 % of the windows it was learned from."""
    w = windows(pool, model)
    combined = combined_prediction(w, model.weights)
    table, counts = ratio_table(combined, w)
    checked = 0
    for p, q in zip(*np.nonzero(counts >= MIN_CELL)):
        sel = (w.quarter == q) & (w.period == p) & (combined > 0)
        if sel.sum() < MIN_CELL:
            continue  # the cell borrowed neighbours' windows
        ratio = w.actual[sel] / combined[sel]
        lo, hi = np.interp([0.1, 0.9], LEVELS, table[p, q])
        assert 0.7 <= np.mean((ratio >= lo) & (ratio <= hi)) <= 0.9
        checked += 1
    assert checked >= 10


def _flat_forecast(bands: np.ndarray | None) -> Forecast:
    days = pd.date_range("2024-05-01", "2024-12-31")
    return Forecast("combined", days, np.full((2, len(days)), 1_000_00.0), bands)


def test_draws_apply_one_quantile_per_path_to_every_quarter_end(model):
    bands = model.bands("combined", D(2024, 4, 30))
    draws = draw_paths(_flat_forecast(bands), 20_000, seed=3)
    assert (draws >= 0).all()
    cumulative = np.cumsum(draws.sum(axis=1), axis=1)
    assert (np.diff(cumulative, axis=1) >= -1e-6).all()  # spend never runs backwards
    predicted_year = 2 * 1_000_00.0 * 245
    for level in (0.1, 0.5, 0.9):  # the year-end total's quantiles are the learned ratios times the prediction
        assert np.quantile(cumulative[:, 3], level) == pytest.approx(predicted_year * np.interp(level, LEVELS, bands[3]), rel=0.03)
    assert (draws[:, 0, :] == draws[:, 1, :]).all()  # segments split like the mean


def test_without_bands_every_path_is_the_mean():
    draws = draw_paths(_flat_forecast(None), 50, seed=3)
    assert np.ptp(draws, axis=0).max() == 0


def test_track_record_of_the_demo_client_checks_only_quarter_ends_that_have_passed():
    scen = demo_scenario()
    as_of = D(2024, 10, 20)
    rows = scen.spend[scen.spend["date"] <= pd.Timestamp(as_of)]
    history = segment_history(rows, scen.policy, as_of)
    record = track_record(history, as_of, load())
    assert set(record["target"]) == {D(2024, 3, 31), D(2024, 6, 30), D(2024, 9, 30)}
    assert (record["origin"] < record["target"]).all() and record["origin"].min() >= D(2024, 1, 28)
    daily = history.daily.sum(axis=0)
    for target, actual in record.groupby("target")["actual"].first().items():
        assert actual == daily[: (target - D(2024, 1, 1)).days + 1].sum()
    assert record["inside"].equals((record["p10"] <= record["actual"]) & (record["actual"] <= record["p90"]))


def test_every_statistical_method_has_its_own_learned_bands():
    scen = demo_scenario()
    history = segment_history(scen.spend, scen.policy, D(2024, 8, 31))
    for method in ("combined",) + COMPONENTS:
        fc = make_forecast(method, history, scen.policy, D(2024, 8, 31))
        assert fc.bands is not None and fc.bands.shape == (4, len(LEVELS))
        assert np.array_equal(fc.bands, load().ratios[method][period(D(2024, 8, 31))])


@pytest.mark.slow  # a subprocess CLI run: the full lane
def test_calibrate_cli_learns_from_a_teams_own_history(tmp_path):
    """Two full years per client in one file with a client column → a model the app can load."""
    frames = []
    for c in client_years(6, seed=11):
        rows = c.rows()
        frames.append(pd.DataFrame({"client": c.name, "date": rows["date"].dt.strftime("%Y-%m-%d"),
                                    "account_id": rows["account_id"], "platform": rows["platform"], "network": rows["network"],
                                    "bidding": "true", "industry_class": rows["industry_class"],
                                    "business_model": rows["business_model"], "amount": rows["amount_fen"] / 100}))
    spend = tmp_path / "history.csv"
    pd.concat(frames).to_csv(spend, index=False)
    out = tmp_path / "model.json"
    run = subprocess.run([sys.executable, "-m", "core", "calibrate", str(spend), "--out", str(out), "--min-years", "5"],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["client_years"] == 12  # 6 clients × (2023, 2024)
    model = from_json(out.read_text(encoding="utf-8"))
    assert model.client_years == 12 and "history.csv" in model.source
    refused = subprocess.run([sys.executable, "-m", "core", "calibrate", str(spend), "--out", str(out)],
                             capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert refused.returncode == 2 and "only 12 full client-years" in refused.stderr


def test_pool_keeps_only_full_years():
    c = client_years(1, seed=5)[0]
    rows = c.rows().assign(client="K")
    assert [(s.year, s.previous is not None) for s in pool_from_rows(rows)] == [(2023, False), (2024, True)]
    cut = rows[rows["date"] <= pd.Timestamp("2024-09-30")]
    assert [s.year for s in pool_from_rows(cut)] == [2023]


@pytest.mark.slow
def test_calibration_bench_small_size_prints_every_figure_and_is_far_better_calibrated_than_before():
    run = subprocess.run([sys.executable, "-m", "bench.calibration", "--clients", "60", "--paths", "500"],
                         capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    for text in ("cover_80", "brier_target", "reliability (product", "confident (≤2 % or ≥98 %) and wrong", "targets:"):
        assert text in out
    table = pd.read_fwf(pd.io.common.StringIO(out.split("\n\n")[1]))
    product = table[table["model"] == "product"]
    assert len(product) == 4 and product["cover_80"].mean() >= 0.65  # the old constant-noise model held 38 %


def test_scaling_bands_keeps_the_median_and_stops_and_narrows_the_log_spread(model):
    from core.error_model import scale_bands

    bands = model.bands("combined", D(2024, 4, 30))
    assert scale_bands(bands, 1.0) is bands
    half = scale_bands(bands, 0.5)
    for q in range(4):
        med, lo, hi = (np.interp(p, LEVELS, bands[q]) for p in (0.5, 0.1, 0.9))
        assert np.interp(0.5, LEVELS, half[q]) == pytest.approx(med)
        assert np.log(np.interp(0.9, LEVELS, half[q]) / np.interp(0.1, LEVELS, half[q])) == pytest.approx(np.log(hi / lo) / 2, rel=0.02)
    assert ((bands == 0) == (half == 0)).all()


def test_own_record_moves_the_spread_only_as_far_as_its_evidence_allows():
    from core.calibration import SCALE_LIMITS, own_scale

    def record(misses: list[float], targets: int) -> pd.DataFrame:
        return pd.DataFrame({"target": [i % targets for i in range(len(misses))], "miss": misses})

    assert own_scale(record([], 1)) == 1.0
    assert own_scale(record([0.0] * 40, 8)) == SCALE_LIMITS[0]  # long and steady: sharpest allowed
    assert own_scale(record([5.0] * 40, 8)) == SCALE_LIMITS[1]
    assert own_scale(record([0.0] * 4, 1)) == pytest.approx(0.8)  # one quarter end: 2 observations against a prior of 8
    assert own_scale(record([1.0] * 10, 3)) == pytest.approx(1.0)


def test_a_what_if_on_the_terms_reuses_the_draws_without_refitting(monkeypatch):
    import core.outlook as outlook_module

    scen = demo_scenario()
    day = D(2024, 8, 31)
    rows = scen.spend[scen.spend["date"] <= pd.Timestamp(day)]
    stage = outlook_module.forecast_stage(rows, scen.policy, day, paths=500)
    monkeypatch.setattr(outlook_module, "calibrated_forecast", lambda *a, **k: pytest.fail("refitted on a terms change"))
    for target in (40_000_000_00, 60_000_000_00):
        o = outlook_module.outlook(rows, scen.terms.with_target(target), scen.policy, day, stage=stage)
        assert o.projection.paths == 500
    low = outlook_module.outlook(rows, scen.terms.with_target(40_000_000_00), scen.policy, day, stage=stage)
    high = outlook_module.outlook(rows, scen.terms.with_target(60_000_000_00), scen.policy, day, stage=stage)
    assert np.array_equal(low.projection.outcome.actual, high.projection.outcome.actual)  # same paths, other target


def _flat_profile(n: int = 366) -> np.ndarray:
    return np.ones(n)


def test_an_account_silent_for_the_stop_window_leaves_the_level_and_one_a_day_short_stays():
    from core.forecast import live_total, settings

    stop, t = settings()["account_stop_days"], 100
    steady = np.full(t + 1, 10.0)
    for silent, counted in ((stop, False), (stop - 1, True)):  # the last spend `silent` days before day t
        churned = np.full(t + 1, 5.0)
        churned[t + 1 - silent:] = 0.0
        total = live_total(np.stack([steady, churned]), t, _flat_profile())
        expected = steady + churned if counted else steady
        assert np.array_equal(total, expected), silent


def test_a_late_starter_is_read_at_its_level_since_it_started_and_an_early_one_as_it_is():
    from core.forecast import live_total, settings

    start, t = settings()["account_start_days"], 60
    profile = np.where(np.arange(366) % 7 >= 5, 0.5, 1.0)  # weekends at half level
    for first, carried in ((start, True), (start - 1, False)):
        new = np.where(np.arange(t + 1) >= first, 8.0 * profile[: t + 1], 0.0)
        total = live_total(new[None, :], t, profile)
        assert np.allclose(total, 8.0 * profile[: t + 1]) if carried else np.array_equal(total, new), first


def test_a_migration_reads_as_one_account_and_a_client_with_no_live_account_keeps_its_raw_spend():
    from core.forecast import live_total

    t = 120
    old = np.where(np.arange(t + 1) < 60, 7.0, 0.0)
    new = np.where(np.arange(t + 1) >= 60, 7.0, 0.0)
    assert np.allclose(live_total(np.stack([old, new]), t, _flat_profile()), 7.0)
    gone = np.stack([old, old])
    assert np.array_equal(live_total(gone, t, _flat_profile()), gone.sum(axis=0))


def test_the_forecast_follows_the_live_accounts_of_a_client(model):
    """A client whose second account stopped in March is projected at the first one's level."""
    from core.policy import load_policy

    policy = load_policy("ocean_engine_2024")
    items = []
    for day in pd.date_range("2024-01-01", "2024-04-30"):
        items.append(row(f"{day:%Y-%m-%d}", 10_000, account_id="A"))
        if day < pd.Timestamp("2024-03-01"):
            items.append(row(f"{day:%Y-%m-%d}", 30_000, account_id="B"))
    frame = rows(*items)
    history = segment_history(frame, policy, dt.date(2024, 4, 30))
    both = make_forecast("share_of_year", history, policy, dt.date(2024, 4, 30), model=model)
    a_only = make_forecast("share_of_year", segment_history(frame[frame.account_id == "A"], policy, dt.date(2024, 4, 30)),
                           policy, dt.date(2024, 4, 30), model=model)
    assert np.allclose(both.mean.sum(axis=0), a_only.mean.sum(axis=0))


def test_event_rates_count_client_years_whose_account_later_stops_or_starts():
    """Three client-years: one whose second account stops on day 200, one with a new account
    from day 100, one steady; the shares per origin week follow the day of each event."""
    from core.calibration import SpendYear, event_rates

    n = 366
    steady = np.full(n, 5.0)
    stops = np.where(np.arange(n) < 200, 5.0, 0.0)
    starts = np.where(np.arange(n) >= 100, 5.0, 0.0)
    pool = [SpendYear(2024, np.stack([steady, stops])), SpendYear(2024, np.stack([steady, starts])), SpendYear(2024, steady[None, :])]
    rates = event_rates(pool)
    week_before, week_after = 190 // 7, 230 // 7  # origins before the stop, and after it was seen (14 silent days)
    assert rates["stop"][week_before] == pytest.approx(1 / 3) and rates["stop"][week_after] == 0.0
    assert rates["start"][90 // 7] == pytest.approx(1 / 3) and rates["start"][105 // 7] == 0.0


def test_a_model_file_without_event_rates_still_loads_and_shows_none(model):
    raw = json.loads(model.to_json())
    assert set(raw["events"]) == {"stop", "start"}
    del raw["events"]
    old = from_json(json.dumps(raw))
    assert old.event_shares(dt.date(2024, 4, 30)) == {}
    assert 0.0 <= model.event_shares(dt.date(2024, 4, 30))["stop"] <= 1.0


def test_an_account_billed_in_bursts_is_judged_by_its_own_rhythm():
    """A 星图-like account billed every 10 days stops only after 4 of its usual gaps
    (40 days) of silence, not after a daily account's 14: live at 39 silent days, out at 40."""
    from core.forecast import live_total, settings

    gaps = settings()["account_stop_gaps"]
    steady = np.full(400, 10.0)
    bursts = np.where(np.arange(400) % 10 == 0, 50.0, 0.0)
    last_order = 100
    bursts[last_order + 1:] = 0.0
    for silent, counted in ((gaps * 10 - 1, True), (gaps * 10, False)):
        t = last_order + silent
        total = live_total(np.stack([steady, bursts]), t, _flat_profile(400))
        expected = steady[: t + 1] + (bursts[: t + 1] if counted else 0.0)
        assert np.array_equal(total, expected), silent


def test_a_new_accounts_first_orders_do_not_make_a_level_until_it_has_spent_on_enough_days():
    """A first order alone is not a level: a late starter is carried back only once it has
    spent on `account_level_days` days (one day fewer: as it is; that many: read at its
    level since it started) — for an account billed in bursts that takes as many orders."""
    from core.forecast import live_total, settings

    need, first = settings()["account_level_days"], 60
    for every in (1, 5):  # a daily account, and one billed every fifth day
        new = np.where((np.arange(200) >= first) & ((np.arange(200) - first) % every == 0), 6.0, 0.0)
        for orders, carried in ((need - 1, False), (need, True)):
            t = first + (orders - 1) * every
            total = live_total(new[None, :], t, _flat_profile())
            assert (total[:first] > 0).all() if carried else np.array_equal(total, new[: t + 1]), (every, orders)
