"""Invariants of the engine over random spend and terms (hypothesis)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.evaluation import evaluate
from core.policy import BUSINESS_MODELS, INDUSTRY_CLASSES, load_policy
from core.spend import AD_MODELS, FUNDINGS, NETWORKS, PLATFORMS
from core.terms import ContractTerms, CustomerChange, ListedChange
from core.validate import normalise_spend
from tests.conftest import examples

POLICY = load_policy("ocean_engine_2024")
MONEY_FIELDS = ("final_return_fen", "year_end_settlement_fen", "clawback_fen", "deposit_deducted_fen", "deposit_refundable_fen")

row_st = st.fixed_dictionaries(
    {
        "date": st.dates(dt.date(2024, 1, 1), dt.date(2024, 12, 31)).map(str),
        "customer": st.sampled_from(["Alpha", "Beta", "Gamma"]),
        "account_id": st.sampled_from(["1", "2", "3", "4"]),
        "platform": st.sampled_from(PLATFORMS),
        "network": st.sampled_from(NETWORKS),
        "bidding": st.booleans(),
        "brand_bidding": st.booleans(),
        "funding": st.sampled_from(FUNDINGS),
        "industry_class": st.sampled_from(INDUSTRY_CLASSES),
        "business_model": st.sampled_from(BUSINESS_MODELS),
        "ad_model": st.sampled_from(AD_MODELS),
        "kol_reuses_xingtu_video": st.booleans(),
        "via_party_b": st.booleans(),
        "amount": st.integers(0, 3_000_000_000).map(lambda f: Decimal(f) / 100),
    }
)
terms_st = st.builds(
    ContractTerms,
    target_fen=st.integers(1_000_000_00, 200_000_000_00),
    customer_type=st.sampled_from(["regular", "new"]),
    main_industry=st.sampled_from(POLICY.main_industries),
    previous_year_fen=st.integers(0, 100_000_000_00),
    signed_on=st.dates(dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
    deposit_paid_on=st.one_of(st.none(), st.dates(dt.date(2023, 12, 1), dt.date(2024, 12, 31))),
    party_b_target_fen=st.one_of(st.none(), st.integers(1_000_000_00, 200_000_000_00)),
    shortfall_factor=st.one_of(st.none(), st.decimals("0", "2", places=2)),
    frame_splicing=st.booleans(),
    non_bidding_framework=st.booleans(),
)
SETTINGS = settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def typed(items: list[dict]) -> pd.DataFrame:
    parsed = normalise_spend(pd.DataFrame(items, dtype=object) if items else pd.DataFrame(columns=["date", "account_id", "platform", "network", "bidding", "industry_class", "business_model", "amount"]))
    assert not parsed.errors
    return parsed.rows


def outputs(items: list[dict], terms: ContractTerms):
    r = evaluate(typed(items), terms, POLICY)
    return r.to_dict(POLICY) | {"_fen": [getattr(r, f) for f in MONEY_FIELDS]}, r


@SETTINGS
@given(st.lists(row_st, max_size=25), terms_st, st.randoms(use_true_random=False))
def test_row_order_never_matters(items, terms, rnd):
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert outputs(items, terms)[0] == outputs(shuffled, terms)[0]


@SETTINGS
@given(st.lists(row_st, min_size=1, max_size=20), terms_st, st.data())
def test_splitting_a_row_into_two_identical_rows_changes_nothing(items, terms, data):
    i = data.draw(st.integers(0, len(items) - 1))
    fen = int(items[i]["amount"] * 100)
    part = data.draw(st.integers(0, fen))
    first, second = dict(items[i]), dict(items[i])
    first["amount"], second["amount"] = Decimal(part) / 100, Decimal(fen - part) / 100
    split = items[:i] + [first, second] + items[i + 1 :]
    assert outputs(items, terms)[0] == outputs(split, terms)[0]


@SETTINGS
@given(st.lists(row_st, max_size=20), terms_st, row_st, st.sampled_from(["grant", "return", "dou_plus", "dongchedi"]))
def test_adding_a_non_counting_row_changes_nothing(items, terms, extra, why):
    extra = dict(extra)
    if why in ("grant", "return"):
        extra["funding"] = why
    elif why == "dou_plus":
        extra["platform"] = "dou_plus"
    else:
        extra["network"], extra["platform"] = "dongchedi", "ocean_ads"
    assert outputs(items, terms)[0] == outputs(items + [extra], terms)[0]


@SETTINGS
@given(st.lists(row_st, max_size=20), terms_st, st.integers(1, 3_000_000_000), st.dates(dt.date(2024, 1, 1), dt.date(2024, 12, 31)))
def test_deposit_deduction_never_rises_when_completion_rises(items, terms, extra_fen, day):
    more = {
        "date": str(day), "customer": "Alpha", "account_id": "1", "platform": "ocean_ads", "network": "douyin",
        "bidding": True, "industry_class": "B1", "business_model": "brand", "via_party_b": True,
        "amount": Decimal(extra_fen) / 100,
    }
    before, after = outputs(items, terms)[1], outputs(items + [more], terms)[1]
    assert after.completion_rate >= before.completion_rate
    assert after.deposit_deducted_fen <= before.deposit_deducted_fen


@SETTINGS
@given(st.lists(row_st, max_size=25), terms_st)
def test_no_output_is_negative_and_settlement_balances(items, terms):
    out, r = outputs(items, terms)
    for v in r.pre_return_fen + r.credited_fen + tuple(out["_fen"]):
        assert v >= 0
    assert r.year_end_settlement_fen - r.clawback_fen == r.final_return_fen - sum(r.credited_fen)
    assert r.deposit_deducted_fen + r.deposit_refundable_fen + r.clawback_from_deposit_fen <= r.deposit_fen


json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
scenario_like = st.fixed_dictionaries(
    {"client": st.dictionaries(st.sampled_from(["target_amount", "customer_type", "main_industry", "actual_2023",
                                                "deposit_paid_on", "signed_on", "listed_changes", "bogus"]),
                               json_value, max_size=6)},
    optional={"as_of": json_value, "policy": json_value, "spend": st.lists(st.dictionaries(st.text(max_size=10), json_value, max_size=5), max_size=3)},
)


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_value, scenario_like))
def test_fuzzed_scenarios_raise_only_input_error(data):
    from core.problems import InputError
    from core.scenario import parse_scenario

    try:
        s = parse_scenario(data, "fuzz.json")
    except InputError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    r = evaluate(s.spend, s.terms, s.policy, s.as_of)
    assert r.actual_fen >= 0 and all(v >= 0 for v in r.pre_return_fen)


@settings(max_examples=examples(150), deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(1, 4), st.integers(1, 6), st.integers(1, 10**6)), min_size=1, max_size=40),
       st.lists(st.integers(0, 10**9), min_size=16, max_size=16))
def test_credits_split_each_quarter_exactly_and_clients_do_not_interact(units, amounts):
    """§6: a quarter's credited fen is split over buckets by share, to the fen (largest
    remainder), and a portfolio's split equals each client's own split."""
    import numpy as np

    from core.ledger import credit_table

    raw = pd.DataFrame(units, columns=["group", "quarter", "bucket", "units"]).drop_duplicates(["group", "quarter", "bucket"])
    raw["bucket"] = "b" + raw["bucket"].astype(str)
    shares = raw.assign(share=raw["units"] / raw.groupby(["group", "quarter"])["units"].transform("sum")).drop(columns="units")
    credited = pd.DataFrame([(g, q, amounts[g * 4 + q - 1]) for g in range(4) for q in range(1, 5)], columns=["group", "quarter", "amount"])
    table = credit_table(credited, shares)
    got = table.groupby(["group", "quarter"])["amount"].sum()
    for (g, q), share in shares.groupby(["group", "quarter"]):
        amount = amounts[g * 4 + q - 1]
        assert got.get((g, q), 0) == amount
        mine = table[(table["group"] == g) & (table["quarter"] == q)].set_index("bucket")["amount"]
        exact = share.set_index("bucket")["share"] * amount
        assert (np.abs(mine.reindex(exact.index, fill_value=0) - exact) < 1).all()
    for g in range(4):
        alone = credit_table(credited[credited["group"] == g], shares[shares["group"] == g])
        pd.testing.assert_frame_equal(alone, table[table["group"] == g].reset_index(drop=True))


def _largest_remainder_oracle(credited: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """§6 split written out plainly, one (client, quarter) at a time: each bucket gets the
    floor of share × amount, the fen left over go one each to the largest remainders (ties:
    the shares' order), and the buckets keep the shares' order."""
    out = []
    amount_of = {(g, q): a for g, q, a in credited[["group", "quarter", "amount"]].itertuples(index=False) if a > 0}
    rows = list(shares[["group", "quarter", "bucket", "share"]].itertuples(index=False))
    for key in dict.fromkeys((g, q) for g, q, _, _ in rows):
        if key not in amount_of:
            continue
        mine = [(i, b, s * amount_of[key]) for i, (g, q, b, s) in enumerate(rows) if (g, q) == key]
        fen = {i: int(np.floor(raw)) for i, _, raw in mine}
        left = amount_of[key] - sum(fen.values())
        for i, _, _ in sorted(mine, key=lambda m: (-(m[2] - np.floor(m[2])), m[0]))[:max(left, 0)]:
            fen[i] += 1
        out += [(key[0], key[1], b, fen[i]) for i, b, _ in mine if fen[i] > 0]
    return pd.DataFrame(out, columns=["group", "quarter", "bucket", "amount"])


@settings(max_examples=examples(150), deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(1, 4), st.integers(1, 6), st.integers(1, 10**6)), min_size=0, max_size=40),
       st.lists(st.integers(0, 10**9), min_size=16, max_size=16), st.randoms(use_true_random=False))
def test_credits_split_as_the_plain_largest_remainder_rule_says(units, amounts, rnd):
    """`credit_table` (vectorised for a whole portfolio) equals the rule written out plainly,
    row for row — whatever order the shares come in."""
    from core.ledger import credit_table

    raw = pd.DataFrame(units, columns=["group", "quarter", "bucket", "units"]).drop_duplicates(["group", "quarter", "bucket"])
    raw = raw.iloc[rnd.sample(range(len(raw)), len(raw))] if len(raw) else raw
    raw["bucket"] = "b" + raw["bucket"].astype(str)
    shares = raw.assign(share=raw["units"] / raw.groupby(["group", "quarter"])["units"].transform("sum")).drop(columns="units")
    credited = pd.DataFrame([(g, q, amounts[g * 4 + q - 1]) for g in range(4) for q in range(1, 5)], columns=["group", "quarter", "amount"])
    got = credit_table(credited, shares)
    want = _largest_remainder_oracle(credited, shares.reset_index(drop=True))
    want = want.sort_values(["group", "quarter"], kind="stable").reset_index(drop=True)
    assert got[["group", "quarter", "bucket"]].astype(object).values.tolist() == want[["group", "quarter", "bucket"]].astype(object).values.tolist()
    assert got["amount"].tolist() == want["amount"].tolist()


changes_st = st.tuples(
    st.lists(st.builds(ListedChange, customer=st.sampled_from(["Alpha", "Beta"]),
                       notified_on=st.dates(dt.date(2024, 1, 1), dt.date(2024, 12, 31)), listed=st.booleans(),
                       listed_class=st.sampled_from(["D", "E1", "E2"])), max_size=2).map(tuple),
    st.lists(st.builds(CustomerChange, customer=st.sampled_from(["Beta", "Gamma"]), kind=st.sampled_from(["added", "association_lost"]),
                       on=st.dates(dt.date(2024, 1, 1), dt.date(2024, 12, 31))), max_size=2).map(tuple),
)


@SETTINGS
@given(st.lists(row_st, max_size=25), terms_st, changes_st, st.dates(dt.date(2024, 1, 1), dt.date(2024, 12, 31)))
def test_the_row_rules_read_only_the_inputs_row_terms_keeps(items, terms, changes, day):
    """What a what-if on the target reuses (core.actuals): the rows' totals under the full
    terms equal those under `row_terms` — the target, customer type, industry, previous
    year, deposit amount, Party B target, splicing and shortfall factor never reach a row."""
    from dataclasses import replace

    from core.actuals import row_terms
    from core.engine import row_rules

    rows = typed(items)
    full = replace(terms, listed_changes=changes[0], customer_changes=changes[1])
    a, b = row_rules(rows, full, POLICY, day), row_rules(rows, row_terms(full, POLICY), POLICY, day)
    assert a[1] == b[1]
    for name in ("counted", "party_b", "base", "agreed_units", "reduced_units"):
        assert (getattr(a[0], name) == getattr(b[0], name)).all(), name


@SETTINGS
@given(st.lists(row_st, max_size=25), terms_st, changes_st,
       st.lists(st.dates(dt.date(2023, 12, 20), dt.date(2025, 1, 10)), min_size=1, max_size=4))
def test_rows_classified_once_read_at_any_date_equal_the_row_rules_at_that_date(items, terms, changes, days):
    """Why the dashboard may classify a year of rows once (core.actuals.classified) and read
    it at every evaluation date: the totals, readings, daily counted spend and bucket shares
    equal `row_rules`, `daily_counted` and `bucket_pre_return_shares` run afresh at each date,
    in any order of dates (each read kept on the object must not leak into the next)."""
    from dataclasses import replace

    from core.actuals import classified
    from core.engine import row_rules
    from core.ledger import bucket_pre_return_shares
    from core.progress import daily_counted

    rows = typed(items)
    full = replace(terms, listed_changes=changes[0], customer_changes=changes[1])
    rated = classified(rows, full, POLICY)
    for day in days:
        (a, used_a), (b, used_b) = rated.totals_to(day), row_rules(rows, full, POLICY, day)
        assert used_a == used_b
        for name in ("counted", "party_b", "base", "agreed_units", "reduced_units"):
            assert (getattr(a, name) == getattr(b, name)).all(), (name, day)
        pd.testing.assert_frame_equal(rated.daily_counted(day).reset_index(drop=True),
                                      daily_counted(rows, full, POLICY, day).reset_index(drop=True))
    pd.testing.assert_frame_equal(rated.bucket_shares(), bucket_pre_return_shares(rows, full, POLICY))


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["ocean_ads/feed/other", "local/feed/csj", "qianchuan/search/other"]),
                          st.dates(dt.date(2024, 1, 1), dt.date(2025, 3, 31)),
                          st.one_of(st.integers(0, 10**12).map(float), st.floats(0, 1e9, allow_nan=False))), max_size=40))
def test_the_ledgers_use_by_bucket_adds_up_as_a_groupby_would(items):
    """The FIFO ledger's daily use per bucket (numpy) equals pandas' group-by sum: the same
    days in order and the same amounts, unsorted input and several rows a day included."""
    from core.ledger import _use_by_bucket

    frame = pd.DataFrame(items, columns=["bucket", "date", "fen"]).astype({"fen": np.float64})
    frame["date"] = pd.to_datetime(frame["date"])
    got = _use_by_bucket(frame)
    want = frame.groupby(["bucket", "date"], sort=True)["fen"].sum()
    assert sorted(got) == sorted(frame["bucket"].unique())
    for bucket, part in want.groupby(level=0):
        days, spend = got[bucket]
        assert list(days) == [d.date() for d in part.index.get_level_values(1)]
        assert np.allclose(spend, part.to_numpy(), rtol=1e-15, atol=0), bucket


def _settled_as_python_ints(outcome) -> dict:
    """Every field of an Outcome as plain Python values, whatever dtype computed it."""
    from dataclasses import fields

    out = {}
    for f in fields(outcome):
        v = getattr(outcome, f.name)
        if f.name == "totals":
            v = [np.asarray(getattr(v, k), dtype=object).tolist() for k in ("counted", "party_b", "base", "agreed_units", "reduced_units")]
        elif isinstance(v, np.ndarray):
            v = [None if x is None else (x if isinstance(x, str) else int(x)) for x in v.ravel().tolist()]
        out[f.name] = v
    return out


# magnitudes from cents to past the int64 fast path's bound (2^62 / 256 ≈ 1.8e16), so both sides of every guard are drawn
_cell = st.one_of(st.integers(0, 5 * 10**10), st.integers(0, 2**55), st.integers(2**53, 2**63 + 2**40))


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 4), st.data(), terms_st, st.one_of(st.integers(1_000_000_00, 200_000_000_00), st.integers(2**40, 2**70)))
def test_settling_in_int64_equals_settling_in_python_integers(paths, data, terms, target):
    """The period rules settle 10,000 paths in int64 when the amounts leave them headroom
    (core.money.machine_ints; every product is guarded where it is formed) and in Python
    integers otherwise: for any amounts and any target — ordinary, or big enough to force the
    fallback in one function only — both give the same outcome, field by field."""
    from dataclasses import replace

    from core.engine import settle
    from core.pre_return import QuarterTotals
    from core.rates import N_ZERO_GROUPS

    terms = replace(terms, target_fen=target)
    cells = lambda *shape: np.array(data.draw(st.lists(_cell, min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))),
                                    dtype=object).reshape(shape)
    exact_totals = QuarterTotals(cells(paths, 4), cells(paths, 4), cells(paths, 4),
                                 cells(paths, 4, N_ZERO_GROUPS), cells(paths, 4, N_ZERO_GROUPS))
    machine = exact_totals + QuarterTotals(*(np.zeros_like(getattr(exact_totals, k), dtype=np.int64)
                                             for k in ("counted", "party_b", "base", "agreed_units", "reduced_units")))
    for day in (dt.date(2024, 5, 1), dt.date(2024, 12, 31)):
        assert _settled_as_python_ints(settle(machine, terms, POLICY, day)) == _settled_as_python_ints(settle(exact_totals, terms, POLICY, day))


def test_the_int64_fast_path_is_taken_for_ordinary_amounts_and_left_for_absurd_ones():
    """exact_sum keeps int64 (the fast path) for a real client's paths and switches to Python
    integers past the headroom bound — the property above then proves both agree."""
    from core.money import INT64_SAFE, SETTLE_HEADROOM
    from core.pre_return import exact_sum

    ordinary = exact_sum(np.array([[10**12]], dtype=object), np.full((3, 1), 5 * 10**11, dtype=np.int64))
    assert ordinary.dtype == np.int64 and ordinary.tolist() == [[15 * 10**11]] * 3
    edge = INT64_SAFE // SETTLE_HEADROOM
    assert exact_sum(np.array([edge - 2**11]), np.array([1])).dtype == np.int64  # the bound is checked in float64: 2^-53 margin
    assert exact_sum(np.array([edge - 1]), np.array([1])).dtype == object
    assert exact_sum(np.array([2**70], dtype=object), np.array([1])).tolist() == [2**70 + 1]


@settings(max_examples=examples(100), deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["ocean_ads", "local", "qianchuan", "xingtu_xgl", "oesa"]),
                          st.sampled_from(["feed", "search"]), st.sampled_from(["csj", "douyin", "other"])), max_size=60))
def test_bucket_codes_number_the_buckets_as_factorizing_every_rows_name_would(items):
    """core.ledger.bucket_codes names each distinct (platform, placement, network) once and
    never builds a column of names: its codes and names equal pd.factorize over each row's
    bucket name written out by hand (the order the credit split's ties follow)."""
    from core.ledger import LEDGER_PLATFORMS, bucket_codes

    frame = pd.DataFrame(items, columns=["platform", "placement", "network"]).astype("category")
    by_hand = [f"{p}/{pl}/{'csj' if n == 'csj' else 'other'}" if p in LEDGER_PLATFORMS else "" for p, pl, n in items]
    want_codes, want_names = pd.factorize(pd.Series(by_hand, dtype=object))
    codes, names = bucket_codes(frame["platform"], frame["placement"], frame["network"])
    assert codes.tolist() == want_codes.tolist() and list(names) == list(want_names)


@settings(max_examples=examples(150), deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["a", "b", None]), st.integers(-2**40, 2**40)), min_size=1, max_size=60),
       st.integers(1, 14))
def test_combination_keys_are_equal_exactly_where_the_rows_are(items, width):
    """The duplicate-row warning's key: with many copies of a high-cardinality column (60
    distinct values need 11 to pass 2^62) the key is folded, which must not merge or split
    any rows."""
    from core.classification import combination_keys

    frame = pd.DataFrame(items, columns=["small", "text", "big"]).astype({"text": "str"})
    frame["even"] = frame["big"] % 2 == 0
    frame["cat"] = frame["text"].astype("category")  # codes and bools are keyed as they are
    columns = [frame["small"], frame["text"], frame["cat"], frame["even"], *([frame["big"]] * width)]
    keys = combination_keys(columns)
    tuples = list(zip(*(c.tolist() for c in columns)))
    for i in range(len(items)):
        for j in range(len(items)):
            same = all((a == b) or (pd.isna(a) and pd.isna(b)) for a, b in zip(tuples[i], tuples[j]))
            assert (keys[i] == keys[j]) == same
    assert (pd.Series(keys).duplicated().to_numpy() == frame[["small", "text", "big"]].duplicated().to_numpy()).all()


@settings(max_examples=examples(100), deadline=None)
@given(st.lists(st.one_of(st.integers(-10**12, 10**14).map(str),
                          st.decimals(-10**9, 10**12, places=2, allow_nan=False, allow_infinity=False).map(str)),
                min_size=1, max_size=40),
       st.integers(1, 7), st.integers(0, 40))
def test_the_decimal_fast_path_parses_as_the_general_parser_across_chunks(cells, chunk, split):
    """Amounts are cast in chunks (bounded temporaries); any chunk size gives the general
    parser's fen for plain decimal text, also when Arrow holds the column in two chunks
    (as a CSV read does)."""
    import pyarrow as pa

    import core.parsing as parsing

    cut = min(split, len(cells))
    series = pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array([pa.array(cells[:cut], pa.string()),
                                                                        pa.array(cells[cut:], pa.string())])))
    general = parsing.parse_amount_fen(series)
    old = parsing._DECIMAL_CHUNK
    parsing._DECIMAL_CHUNK = chunk
    try:
        fast = parsing.plain_decimal_fen(series)
    finally:
        parsing._DECIMAL_CHUNK = old
    assert fast is not None
    assert fast.fen.tolist() == general.fen.tolist()
    assert fast.ok.tolist() == general.ok.tolist() and fast.negative.tolist() == general.negative.tolist()


@settings(max_examples=examples(150), deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(1, 4), st.booleans(), st.booleans(), st.integers(0, 2),
                          st.sampled_from([0, 10_000, 16_000, 38_000, 50_000]),
                          st.one_of(st.integers(-10**6, 10**9), st.integers(2**50, 2**60))), max_size=40),
       st.sampled_from([5, 3000]))
def test_quarter_totals_equal_a_plain_python_sum_per_client_quarter_and_rate(items, groups):
    """The fused (client, quarter, zero group, rate) key gives the sums a row-by-row Python
    loop gives — on the float bincount path, the int64 path (negative fen) and the
    Python-integer path (fen past 2**53 in total); 3,000 clients take the numbered-keys path."""
    from core.classification import RowClasses
    from core.policy import to_ppm
    from core.pre_return import quarter_totals
    from core.rates import N_ZERO_GROUPS, RowRates

    reduction = to_ppm(POLICY.assessment_630.rate_reduction)
    n = len(items)
    col = list(zip(*items)) if items else [()] * 7
    group, q, counted, base, zero, ppm, fen = (np.array(c, dtype=np.int64) for c in col)
    classes = RowClasses(quarter=q.astype(np.int8), counted=counted.astype(bool), base=base.astype(bool) & counted.astype(bool),
                         party_b=np.zeros(n, dtype=bool))
    rates = RowRates(agreed_ppm=ppm, zero_group=zero.astype(np.int8), effective_class=np.full(n, "A", dtype=object),
                     kol_reuse=np.zeros(n, dtype=bool))
    totals = quarter_totals(fen, classes, rates, POLICY, group, groups)
    want_counted = [[0] * 4 for _ in range(groups)]
    want_base = [[0] * 4 for _ in range(groups)]
    want_units = [[[0] * N_ZERO_GROUPS for _ in range(4)] for _ in range(groups)]
    want_reduced = [[[0] * N_ZERO_GROUPS for _ in range(4)] for _ in range(groups)]
    for k, quarter, c, b, g, rate, amount in items:
        if c:
            want_counted[k][quarter - 1] += amount
        if c and b:
            want_base[k][quarter - 1] += amount
            want_units[k][quarter - 1][g] += amount * rate
            want_reduced[k][quarter - 1][g] += amount * max(0, rate - reduction)
    assert totals.counted.tolist() == want_counted and totals.base.tolist() == want_base
    assert totals.agreed_units.tolist() == want_units and totals.reduced_units.tolist() == want_reduced


@settings(max_examples=examples(150), deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(1, 4), st.integers(0, 5),
                          st.one_of(st.integers(1, 10**12).map(float), st.floats(0.5, 1e9), st.integers(2**52, 2**56).map(float))),
                max_size=40),
       st.sampled_from([0, 5000]))
def test_bucket_units_sum_as_the_sorted_groupby_does(items, offset):
    """The ledger's bucket shares start from Σ units per (client, quarter, bucket): the fused
    bincount must give the group-by's index, order, dtypes and sums exactly."""
    from core.ledger import _units_by_cell

    col = list(zip(*items)) if items else [()] * 4
    group = np.array(col[0], dtype=np.int64) + offset
    quarter, bucket = np.array(col[1], dtype=np.int8), np.array(col[2], dtype=np.int64)
    units = np.array(col[3], dtype=np.float64)
    want = pd.DataFrame({"group": group, "quarter": quarter, "bucket": bucket, "units": units}) \
        .groupby(["group", "quarter", "bucket"])["units"].sum()
    pd.testing.assert_series_equal(_units_by_cell(group, quarter, bucket, units, 6), want, check_exact=True)


@settings(max_examples=examples(150), deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(-500, 10**9)), min_size=1, max_size=60))
def test_the_gap_checks_counted_grid_finds_what_sorting_finds(items):
    """The gap warning's (account, day) keys: counted on a dense grid and sorted on a sparse
    one give the same distinct keys and the same spent flags."""
    from core.ingest import _distinct_spent

    key = np.array([k for k, _ in items], dtype=np.int64)
    amount = np.array([a for _, a in items], dtype=np.float64)
    dense_keys, dense_spent = _distinct_spent(key, amount, 201, True)
    sorted_keys, sorted_spent = _distinct_spent(key, amount, 201, False)
    assert dense_keys.tolist() == sorted_keys.tolist() == sorted(set(key.tolist()))
    assert dense_spent.tolist() == sorted_spent.tolist()


@settings(max_examples=examples(150), deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["17001", "17002", "17003"]), st.integers(0, 6), st.sampled_from(["cash", "return"]),
                          st.sampled_from(["ocean_ads", "local"]), st.sampled_from(["douyin", "csj"]), st.sampled_from(["feed", "search"])),
                min_size=1, max_size=40),
       st.sampled_from([1, 5000]))
def test_duplicate_rows_are_the_rows_pandas_calls_duplicated(items, day_step):
    """Only rows sharing an account-day are keyed for the duplicate warning; the rows it
    names are pandas' duplicated rows, on a dense grid (daily) and a sparse one (days
    5,000 apart: a typo'd year)."""
    from core.ingest import _duplicate_warnings, account_days

    rows = pd.DataFrame(items, columns=["account_id", "day", "funding", "platform", "network", "placement"])
    rows["date"] = pd.to_datetime("2024-01-01") + pd.to_timedelta(rows.pop("day") * day_step, unit="D")
    rows = rows.astype({"account_id": "str", "funding": "category", "platform": "category", "network": "category",
                        "placement": "category"})
    rows["source_row"] = np.arange(2, len(rows) + 2)
    rows["amount_fen"] = 100
    grid = account_days(rows)
    assert grid.dense == (day_step == 1 or rows["date"].nunique() == 1)
    named = [p.row for p in _duplicate_warnings(rows, "x.csv", grid)]
    want = rows.loc[rows.duplicated(subset=["account_id", "date", "funding", "platform", "network", "placement"]), "source_row"]
    assert named == want.tolist()


def test_amounts_beyond_int64_fen_leave_the_decimal_fast_path():
    """The fast path reads decimals' low 64 bits; a value needing the high ones goes to the
    general parser (which calls it too large), never a wrapped-around fen."""
    from core.parsing import parse_amount_fen, plain_decimal_fen

    for cell in ("99999999999999999.99", "-99999999999999999.99"):
        assert plain_decimal_fen(pd.Series([cell, "1.00"], dtype="str")) is None
        assert not parse_amount_fen(pd.Series([cell], dtype="str")).ok[0]
    fast = plain_decimal_fen(pd.Series(["92233720368547758.07", "-92233720368547758.08"], dtype="str"))
    assert fast is not None and fast.too_large[0] and fast.negative[1]  # int64's own edges: read exactly, then refused


@settings(max_examples=examples(150), deadline=None)
@given(st.lists(st.one_of(st.none(), st.just(float("nan")), st.integers(-5, 5), st.floats(-1e3, 1e3, allow_nan=False),
                          st.sampled_from(["合计", " 合计 ", "Total", "subtotal", "总计：", "2024-01-05", "1780000001", "", "小计"]),
                          st.text(max_size=6)), min_size=1, max_size=30),
       st.sampled_from(["object", "str"]))
def test_summary_labels_are_matched_per_distinct_cell_as_per_cell(cells, dtype):
    """The summary-row scan matches each distinct cell once; the rows it marks are those a
    regex over every cell marks."""
    from core.layouts import SUMMARY, _matches
    from core.parsing import as_text

    col = pd.Series(cells, dtype=object)
    if dtype == "str":
        col = col.map(lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v)).astype("str")
    want = as_text(col).str.match(SUMMARY).fillna(False).to_numpy(dtype=bool)
    assert _matches(col, SUMMARY).tolist() == want.tolist()
