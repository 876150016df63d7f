"""The hostile corpus (tests/hostile.py) through the CLI and through every upload of the
app: no crash, no process exit, no hang past its limit, and a message for each file."""
from __future__ import annotations

import contextlib
import io
import json
import time
from pathlib import Path

import pytest
from hostile import Case, cases
from streamlit.testing.v1 import AppTest

from core.cli import main as cli
from core.limits import reader_limits

pytestmark = pytest.mark.slow  # the full lane: minutes, not seconds

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
SCENARIO = DEMO / "client.json"
CASES = cases()


def _param(case: Case):
    return pytest.param(case, id=case.name, marks=[pytest.mark.slow] if case.slow else [])


def _cli_args(case: Case, path: Path) -> list[str]:
    return {
        "spend": ["evaluate", str(SCENARIO), "--spend", str(path)],
        "clients": ["portfolio", str(path), str(DEMO / "portfolio_spend.parquet")],
        "earnings": ["payouts", str(path), "--as-of", "2024-12-31"],
        "scenario": ["evaluate", str(path)],
    }[case.kind]


def test_the_corpus_has_at_least_forty_files_of_every_kind():
    assert len(CASES) >= 40 and len({c.name for c in CASES}) == len(CASES)
    assert {c.kind for c in CASES} == {"spend", "clients", "earnings", "scenario"}


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_the_cli_refuses_each_hostile_file_with_one_line(case: Case, tmp_path):
    path = tmp_path / case.name
    path.write_bytes(case.build())
    err, out = io.StringIO(), io.StringIO()
    started = time.time()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = cli(_cli_args(case, path))
    assert time.time() - started < reader_limits().seconds + 30
    message = err.getvalue()
    assert "Traceback" not in message
    if case.expect == "ok":
        assert code in (0, 2), message  # odd but readable: loads, or is refused with a reason
        return
    assert code == 2, f"{case.name} was not refused: {out.getvalue()[:200]}"
    assert message.startswith("error: ") and message.count("\n") == 1, message
    assert case.expect in message, message
    assert "Error:" not in message and "Exception" not in message  # a message, not a type name


UPLOADS = {"spend": "pages/data.py", "clients": "pages/portfolio.py", "earnings": "pages/payouts.py"}


def _upload_page(case: Case) -> str:
    """Parquet is taken by the Portfolio page's spend upload only (the Data page's picker refuses it)."""
    return "pages/portfolio.py" if case.name.endswith(".parquet") else UPLOADS[case.kind]


def _page(case: Case, lang: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=reader_limits().seconds + 60)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page(_upload_page(case)).run()
    return at


@pytest.mark.parametrize("case", [_param(c) for c in CASES if c.kind != "scenario"])
def test_every_upload_page_answers_each_hostile_file_with_a_message(case: Case):
    at = _page(case, "en")
    data = case.build()
    if _upload_page(case) == "pages/portfolio.py":  # it reads a clients file and a spend file together
        clients = (case.name, data) if case.kind == "clients" else ("clients.csv", (DEMO / "portfolio_clients.csv").read_bytes())
        spend = (case.name, data) if case.kind == "spend" else ("spend.parquet", (DEMO / "portfolio_spend.parquet").read_bytes())
        at.file_uploader[1].set_value((*spend, "application/octet-stream"))
        at.file_uploader[0].set_value((*clients, "application/octet-stream")).run()
    else:
        at.file_uploader[0].set_value((case.name, data, "application/octet-stream")).run()
    assert not at.exception, [e.stack_trace for e in at.exception]
    if case.expect == "ok":  # odd but readable: loading it is fine, crashing is not
        return
    said = [e.value for e in (*at.error, *at.warning, *at.success, *at.info)]
    said += [f"{m.label}: {m.value}" for m in at.metric if m.label == "Errors" and m.value != "0"]  # the validation report
    assert said, f"{case.name}: the page said nothing"
    if case.expect not in ("", "ok"):
        assert any(case.expect in s.replace("\\", "") for s in said), said


def test_the_cli_alone_forks_its_readers_directly_and_they_keep_their_limits(tmp_path):
    """core.isolation.batch_process: the CLI, a process with no other thread, forks each
    reader from itself (no fork server is started) — and a workbook that asks for hundreds of
    GB still dies in its worker against the memory limit, refused in one line, while a good
    portfolio reads to the same table as the fork-server path gives."""
    import subprocess
    import sys

    case = next(c for c in CASES if c.name == "stray_cell_no_dimension.xlsx")
    bad = tmp_path / case.name
    bad.write_bytes(case.build())
    probe = (
        "import contextlib, io, json, sys\n"
        "import multiprocessing.forkserver as fs\n"
        "from core.cli import main\n"
        "err = io.StringIO()\n"
        "with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):\n"
        f"    bad = main(['evaluate', {str(SCENARIO)!r}, '--spend', {str(bad)!r}])\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    good = main(['portfolio', {str(DEMO / 'portfolio_clients.csv')!r}, {str(DEMO / 'portfolio_spend.parquet')!r}, '--as-of', '2024-09-30'])\n"
        "print(json.dumps({'bad': bad, 'message': err.getvalue(), 'good': good, 'summary': json.loads(out.getvalue()),\n"
        "                  'fork_server': fs._forkserver._forkserver_pid}))\n"
    )
    done = subprocess.run([sys.executable, "-X", "faulthandler", "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert "Fatal Python error" not in done.stderr  # the aborted worker is one refusal, not a dump on the shared stderr
    assert result["fork_server"] is None  # every reader forked from the CLI process itself
    assert result["bad"] == 2 and result["message"].startswith("error: ") and "memory" in result["message"]
    assert result["good"] == 0
    from core.cli import COMMANDS, _parser

    args = _parser().parse_args(["portfolio", str(DEMO / "portfolio_clients.csv"), str(DEMO / "portfolio_spend.parquet"),
                                 "--as-of", "2024-09-30"])
    assert result["summary"] == json.loads(json.dumps(COMMANDS["portfolio"](args)))  # outside batch_process: the fork server


def test_warmed_readers_are_the_fork_server_every_later_read_uses():
    """core.isolation.warm_readers starts the fork server before any read (ui.router does it
    a few seconds after a server's first run), and the first read then forks from that one
    instead of starting its own — and reads the file right."""
    import subprocess
    import sys

    probe = (
        "import json, multiprocessing.forkserver as fs\n"
        "from core.ingest import read_table_in_process\n"
        "from core.isolation import run_isolated, warm_readers\n"
        "before = fs._forkserver._forkserver_pid\n"
        "warm_readers()\n"
        "warmed = fs._forkserver._forkserver_pid\n"
        "table = run_isolated(read_table_in_process, (b'a,b\\n1,2\\n', 'x.csv'), 'x.csv')\n"
        "print(json.dumps({'before': before, 'warmed': warmed, 'after': fs._forkserver._forkserver_pid,\n"
        "                  'headers': table.headers, 'rows': len(table.cells)}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["before"] is None and result["warmed"] is not None
    assert result["after"] == result["warmed"]  # the read used the warmed fork server
    assert result["headers"] == ["a", "b"] and result["rows"] == 1


def test_the_router_warms_the_readers_once_per_process():
    """ui.router.warm_readers_later: one timer however many runs finish."""
    from ui import router

    first = router.warm_readers_later(delay=3600)  # a test process may already have one: then that one is returned
    assert router.warm_readers_later(delay=0) is first
    assert first.daemon  # never keeps a stopping server alive
