"""python -m tools.make_real_fixtures — tests/fixtures/real/: files laid out like the exports
account managers and finance really have, each with its exact truth.

The layouts follow public field names: the Ocean Engine marketing API reports (v2
`stat_datetime`/`advertiser_id`/`cost`; v3 `report/custom/get` with `dimensions.`/`metrics.`),
the agency cost report (总消耗 / 非赠款消耗 / 赠款消耗 / 预付消耗 / 授信消耗 with 业务来源 /
投放平台 / 广告类型), Qianchuan 财务流水, `fund/daily_stat` (cash_cost / reward_cost /
return_goods_cost), 本地推 (`local_account_id`), and agency sheets with units in headers.
The truth is computed here from the generating data, never by the product:
`truth.json` maps each file to {"cash": {account: {quarter: fen}}, "warnings": [...]} or to
{"refused": code}.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import openpyxl

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "real"
ACCOUNTS = ["1790000001", "1790000002", "1790000003"]
DAYS = [dt.date(2024, m, d) for m in (1, 3, 5, 8, 11) for d in (3, 17)]


def _data() -> list[dict]:
    """Per account-day: cash, grant, return in fen (prepaid/credit split of the cash too)."""
    rows = []
    for i, day in enumerate(DAYS):
        for j, acc in enumerate(ACCOUNTS):
            cash = 1_000_000 + 137_531 * (i + 1) * (j + 2) + 7 * j  # fen, odd cents
            grant = (50_000 + 1_231 * i) if j != 1 else 0
            ret = (20_000 + 311 * j) if i % 3 == 0 else 0
            prepaid = cash * 2 // 3
            rows.append({"date": day, "account": acc, "cash": cash, "grant": grant, "return": ret,
                         "prepaid": prepaid, "credit": cash - prepaid, "name": f"富达食品-{j + 1}号"})
    return rows


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _truth_cash(rows: list[dict], key: str = "cash") -> dict:
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        q = f"Q{(r['date'].month - 1) // 3 + 1}"
        acc = out.setdefault(r["account"].strip("'"), {})
        acc[q] = acc.get(q, 0) + r[key]
    return out


def _csv(header: list[str], body: list[list[object]], sep: str = ",", encoding: str = "utf-8-sig", title: str = "") -> bytes:
    buf = io.StringIO()
    if title:
        buf.write(title + "\n")
    w = csv.writer(buf, delimiter=sep, lineterminator="\n")
    w.writerow(header)
    w.writerows(body)
    return buf.getvalue().encode(encoding)


def _xlsx(sheets: dict[str, tuple[list[str], list[list[object]]]], hidden: tuple[str, ...] = ()) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, (header, body) in sheets.items():
        ws = wb.create_sheet(name)
        ws.append(header)
        for r in body:
            ws.append(r)
        if name in hidden:
            ws.sheet_state = "hidden"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def build() -> dict[str, tuple[bytes, dict]]:
    rows = _data()
    cash = _truth_cash(rows)
    total = {r_id: r for r_id, r in enumerate(rows)}
    files: dict[str, tuple[bytes, dict]] = {}
    # 1. v2 advertiser report from the API: cost includes grants, no split.
    files["ocean_api_v2_report.csv"] = (
        _csv(["stat_datetime", "advertiser_id", "cost", "show", "click"],
             [[f"{r['date']} 00:00:00", r["account"], _yuan(r["cash"]), 1000, 10] for r in rows]),
        {"cash": cash, "warnings": ["total_includes_grants"]})
    # 2. v3 report/custom/get flattened: dimensions./metrics. prefixes.
    files["ocean_api_v3_custom.csv"] = (
        _csv(["dimensions.stat_time_day", "dimensions.advertiser_id", "metrics.stat_cost", "metrics.show_cnt"],
             [[str(r["date"]), r["account"], _yuan(r["cash"]), 99] for r in rows]),
        {"cash": cash, "warnings": ["total_includes_grants"]})
    # 3. agency cost report: every funding part beside the total; the parts are counted.
    agency_header = ["日期", "账户ID", "账户名称", "业务来源", "投放平台", "广告类型", "总消耗(元)", "非赠款消耗(元)",
                     "赠款消耗(元)", "预付消耗(元)", "授信消耗(元)"]
    files["agency_cost_report.xlsx"] = (
        _xlsx({"消耗报表": (agency_header, [
            [r["date"].isoformat(), r["account"], r["name"], "巨量广告", "抖音APP", "通投广告",
             (r["cash"] + r["grant"]) / 100, r["cash"] / 100, r["grant"] / 100, r["prepaid"] / 100, r["credit"] / 100]
            for r in rows])}),
        {"cash": cash, "warnings": []})
    # 4. the same report without 非赠款消耗: cash = 预付 + 授信 (never 总消耗).
    files["agency_cost_report_prepaid_credit.csv"] = (
        _csv(["日期", "账户ID", "业务来源", "总消耗(元)", "赠款消耗(元)", "预付消耗(元)", "授信消耗(元)"],
             [[str(r["date"]), r["account"], "千川通用版", _yuan(r["cash"] + r["grant"]), _yuan(r["grant"]), _yuan(r["prepaid"]),
               _yuan(r["credit"])] for r in rows]),
        {"cash": cash, "warnings": []})
    # 5. Qianchuan 财务流水 (consumption lines): 非赠款消耗 is the cash.
    files["qianchuan_finance_flow.csv"] = (
        _csv(["日期", "千川账户ID", "产品线", "总消耗(元)", "非赠款消耗(元)", "赠款消耗(元)"],
             [[r["date"].strftime("%Y/%m/%d"), r["account"], "千川-PC极速版", _yuan(r["cash"] + r["grant"]), _yuan(r["cash"]),
               _yuan(r["grant"])] for r in rows], title="巨量千川 财务流水 2024"),
        {"cash": cash, "warnings": []})
    # 6. fund/daily_stat: cash_cost / reward_cost / return_goods_cost.
    files["fund_daily_stat.csv"] = (
        _csv(["date", "advertiser_id", "cash_cost", "reward_cost", "return_goods_cost"],
             [[str(r["date"]), r["account"], _yuan(r["cash"]), _yuan(r["grant"]), _yuan(r["return"])] for r in rows]),
        {"cash": cash, "warnings": []})
    # 7. a daily report with a 当日合计 row per day that keeps its date.
    body = []
    for day in DAYS:
        day_rows = [r for r in rows if r["date"] == day]
        body += [[str(day), r["account"], _yuan(r["cash"])] for r in day_rows]
        body.append([str(day), "当日合计", _yuan(sum(r["cash"] for r in day_rows))])
    body.append(["总计", "", _yuan(sum(r["cash"] for r in rows))])
    files["daily_report_with_totals.csv"] = (_csv(["日期", "账户ID", "消耗(元)"], body), {"cash": cash, "warnings": ["summary_row"]})
    # 8-11. units in headers.
    files["agency_sheet_wan.xlsx"] = (
        _xlsx({"汇总": (["日期", "账户ID", "消耗(万元)"], [[str(r["date"]), r["account"], _wan(r["cash"])] for r in rows])}),
        {"cash": cash, "warnings": []})
    files["agency_sheet_fen.csv"] = (
        _csv(["日期", "账户ID", "消耗(分)"], [[str(r["date"]), r["account"], r["cash"]] for r in rows]), {"cash": cash, "warnings": []})
    files["api_cost_milli_fen_labelled.csv"] = (
        _csv(["stat_datetime", "advertiser_id", "cost(千分之一分)"], [[str(r["date"]), r["account"], r["cash"] * 1000] for r in rows]),
        {"cash": cash, "warnings": []})
    files["stat_cost_k_rmb.csv"] = (
        _csv(["stat_date", "advertiser_id", "stat_cost (k RMB)"],
             [[str(r["date"]), r["account"], _k(r["cash"])] for r in rows]), {"cash": cash, "warnings": []})
    # 12. 本地推 report: local_account_id and the 本地推 platform value.
    files["local_push_report.csv"] = (
        _csv(["日期", "local_account_id", "local_account_name", "产品线", "stat_cost(元)"],
             [[str(r["date"]), r["account"], r["name"], "巨量本地推", _yuan(r["cash"])] for r in rows]),
        {"cash": cash, "warnings": [], "platform": "local"})
    # 13. ids with Excel's apostrophe, full-width digits and spaces: one key per account.
    files["ids_apostrophe_fullwidth.csv"] = (
        _csv(["日期", "账户ID", "消耗"], [[str(r["date"]), _messy(r["account"], i), _yuan(r["cash"])] for i, r in enumerate(rows)]),
        {"cash": cash, "warnings": []})
    # 14. both 账户 (the name) and 账户id: the id is the key.
    files["name_and_id_columns.csv"] = (
        _csv(["账户", "日期", "账户id", "消耗"], [[r["name"], str(r["date"]), r["account"], _yuan(r["cash"])] for r in rows]),
        {"cash": cash, "warnings": []})
    # 15. GBK agency sheet with a title line, 投放平台 = networks, 广告类型 = placements.
    files["agency_gbk_networks.csv"] = (
        _csv(["日期", "账户ID", "投放平台", "广告类型", "消耗"],
             [[str(r["date"]), r["account"], ("头条APP" if i % 2 else "抖音APP"), ("搜索广告" if i % 3 == 0 else "通投广告"),
               _yuan(r["cash"])] for i, r in enumerate(rows)], encoding="gb18030", title="代理商消耗明细（2024）"),
        {"cash": cash, "warnings": []})
    # 16. a workbook whose outdated copy is a hidden sheet placed first: the visible one is read.
    sheet_rows = [[str(r["date"]), r["account"], r["cash"] / 100] for r in rows]
    files["hidden_outdated_sheet.xlsx"] = (
        _xlsx({"旧版": (["日期", "账户ID", "消耗"], [[d, a, v * 3] for d, a, v in sheet_rows]), "消耗": (["日期", "账户ID", "消耗"], sheet_rows)},
              hidden=("旧版",)),
        {"cash": cash, "warnings": ["hidden_sheet"]})
    # 17. one sheet per month (1月 … 11月): every month is read.
    by_month: dict[str, list] = {}
    for r in rows:
        by_month.setdefault(f"{r['date'].month}月", []).append([str(r["date"]), r["account"], r["cash"] / 100])
    files["monthly_sheets.xlsx"] = (_xlsx({m: (["日期", "账户ID", "消耗"], b) for m, b in by_month.items()}),
                                    {"cash": cash, "warnings": ["sheets_combined"]})
    # 18. a v3 report whose `dimensions.platform` is the device OS: set aside, not refused.
    files["ocean_api_v3_os_platform.csv"] = (
        _csv(["dimensions.stat_time_day", "dimensions.advertiser_id", "dimensions.platform", "metrics.stat_cost(元)"],
             [[str(r["date"]), r["account"], ("ANDROID" if i % 2 else "IOS"), _yuan(r["cash"])] for i, r in enumerate(rows)]),
        {"cash": cash, "warnings": ["foreign_values", "total_includes_grants"]})
    # 19. a 星图 order bill: task amount + service fee = total; no platform column.
    files["xingtu_order_bill.csv"] = (
        _csv(["订单号", "下单日期", "账户ID", "达人昵称", "任务金额(元)", "服务费(元)", "总金额(元)"],
             [[f"XT{i:06d}", str(r["date"]), r["account"], f"达人{i % 7}", _yuan(r["cash"] - r["cash"] // 20), _yuan(r["cash"] // 20),
               _yuan(r["cash"])] for i, r in enumerate(rows)]),
        {"cash": cash, "warnings": ["xingtu_bill"], "platform": "xingtu_service"})
    # Refusals: read them as spend and the number would be wrong.
    files["fund_statement_recharges.csv"] = (
        _csv(["日期", "账户ID", "交易类型", "金额(元)"],
             [[str(r["date"]), r["account"], t, _yuan(r["cash"])] for r in rows for t in ("充值", "消耗")][:40]),
        {"refused": "fund_statement"})
    files["semicolon_decimal_comma.csv"] = (
        _csv(["日期", "账户ID", "消耗"], [[str(r["date"]), r["account"], _yuan(r["cash"]).replace(".", ",")] for r in rows], sep=";"),
        {"refused": "european"})
    files["api_cost_milli_fen_unlabelled.csv"] = (
        _csv(["stat_datetime", "advertiser_id", "cost"], [[str(r["date"]), r["account"], r["cash"] * 1000] for r in rows]),
        {"refused": "millifen"})
    files["ids_as_numbers.xlsx"] = (
        _xlsx({"Sheet1": (["日期", "账户ID", "消耗"], [[str(r["date"]), 1748031234567890.0 + i, r["cash"] / 100]
                                                   for i, r in enumerate(rows)])}),
        {"refused": "id_as_number"})
    files["formulas_without_results.xlsx"] = (
        _xlsx({"消耗": (["日期", "账户ID", "消耗", "单价"], [[str(r["date"]), r["account"], f"=D{i + 2}*100", r["cash"] / 10_000]
                                                     for i, r in enumerate(rows)])}),
        {"refused": "empty", "warnings": ["stale_formulas"]})
    files["grant_only.csv"] = (
        _csv(["日期", "账户ID", "赠款消耗"], [[str(r["date"]), r["account"], _yuan(r["grant"])] for r in rows]),
        {"refused": "no_cash"})
    del total
    return files


def _wan(fen: int) -> str:
    """fen as 万元 text, exact (6 decimals of 万 = fen)."""
    return f"{fen // 1_000_000}.{fen % 1_000_000:06d}"


def _k(fen: int) -> str:
    return f"{fen // 100_000}.{fen % 100_000:05d}"


def _messy(account: str, i: int) -> str:
    if i % 3 == 0:
        return "'" + account
    if i % 3 == 1:
        return " " + account.translate(str.maketrans("0123456789", "０１２３４５６７８９")) + " "
    return account


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    truth = {}
    for name, (data, expected) in build().items():
        (OUT / name).write_bytes(data)
        truth[name] = expected
    (OUT / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    print(f"{len(truth)} files in {OUT}")


if __name__ == "__main__":
    main()
