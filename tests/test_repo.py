"""The repository's promises: README commands, CI script, i18n catalogue, no streamlit in core."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.i18n import LANGUAGES, catalogue

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    block = re.search(r"```(?:bash|sh)?\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert block, "README must open with a code block of set-up commands"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


def test_readme_opens_with_exactly_two_setup_commands():
    cmds = readme_commands()
    assert len(cmds) == 2
    assert "streamlit run streamlit_app.py" in cmds[0] and "pytest" in cmds[1]


def test_ci_runs_the_readme_test_command():
    assert readme_commands()[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_core_never_imports_streamlit():
    for path in (ROOT / "core").rglob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+streamlit", path.read_text(encoding="utf-8"), re.M), path


def test_every_catalogue_key_has_both_languages():
    for key, texts in catalogue().items():
        for lang in LANGUAGES:
            assert texts.get(lang, "").strip(), f"{key} has no {lang}"


def test_every_key_used_in_the_code_is_in_the_catalogue():
    used: set[str] = set()
    for folder in ("pages", "ui", "core"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= set(re.findall(r"\bt\(\s*\"([a-z0-9_.]+)\"", path.read_text(encoding="utf-8")))
    used |= {f"data.value.{v}" for v in ("replace", "append", "active", "undone")}
    used |= {f"outcome.{o}" for o in ("pass", "reduced", "terminated", "not_applicable", "pending", "q3_withheld",
                                        "target_met", "below_threshold", "shortfall", "forfeited", "not_effective")}
    missing = sorted(used - set(catalogue()))
    assert not missing, f"missing i18n keys: {missing}"
    assert len(used) > 20


def test_pages_are_views_that_never_touch_the_store():
    """Architecture: a page imports core, ui and services — never store, sqlmodel or
    sqlalchemy (use cases live in services/, every write there with its version check)."""
    import ast

    for path in sorted((ROOT / "pages").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert name.split(".")[0] not in ("store", "sqlmodel", "sqlalchemy"), f"{path.name} imports {name}"


MAX_PAGE_COMPLEXITY = 10


def test_pages_are_a_main_of_small_functions():
    """A page is a view: module level holds only its docstring, imports, constants and
    definitions, and ends with one ``main()`` call; no function is more complex than
    MAX_PAGE_COMPLEXITY (radon's cyclomatic complexity, the figure CI enforces)."""
    import ast

    from radon.complexity import cc_visit

    allowed = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)
    for path in sorted((ROOT / "pages").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        body = ast.parse(text).body
        docstring = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
        *definitions, last = body[1:] if docstring else body
        assert ast.unparse(last) == "main()", f"{path.name} must end with main()"
        for node in definitions:
            assert isinstance(node, allowed), f"{path.name}:{node.lineno} runs {type(node).__name__} at module level"
            if isinstance(node, (ast.Assign, ast.AnnAssign)):  # constants only: state lives in main()
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name)]
                assert all(name.isupper() for name in names), f"{path.name}:{node.lineno} sets {names} at module level"
        assert any(isinstance(n, ast.FunctionDef) and n.name == "main" for n in definitions), f"{path.name} has no main()"
        for block in cc_visit(text):
            assert block.complexity <= MAX_PAGE_COMPLEXITY, f"{path.name}:{block.lineno} {block.name} has complexity {block.complexity}"


def test_services_never_import_streamlit():
    for path in (ROOT / "services").rglob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+streamlit", path.read_text(encoding="utf-8"), re.M), path


@pytest.mark.slow
def test_core_type_checks_clean_with_mypy():
    """`mypy core/` reports nothing (CI runs it through this test)."""
    import subprocess
    import sys

    pytest.importorskip("mypy")
    run = subprocess.run([sys.executable, "-m", "mypy", "--ignore-missing-imports", "--no-error-summary", "core/"],
                         capture_output=True, text=True, cwd=ROOT, timeout=280)
    assert run.returncode == 0, run.stdout[-3000:]


def test_the_readmes_clause_table_is_what_the_code_declares():
    """Each row of "How the engine maps to the contract" lists exactly the clauses its
    module's rule functions carry (`@clause`); a module marked — declares none."""
    import importlib

    from core.clauses import module_clauses

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text[text.index("| module | rules (rebate-rules.md) | clauses |"):].split("\n\n")[0].splitlines()[2:]
    checked = 0
    for row in table:
        cells = [c.strip() for c in row.strip("|").split("|")]
        modules = re.findall(r"`core/(\w+)\.py`", cells[0])
        declared = [module_clauses(importlib.import_module(f"core.{m}")) for m in modules]
        if cells[2] == "—":
            assert not any(declared), (cells[0], declared)
        else:
            assert len(modules) == 1 and ", ".join(declared[0]) == cells[2], (cells[0], declared, cells[2])
        checked += 1
    assert checked >= 9


@pytest.mark.slow
def test_ruff_is_clean_with_the_chosen_rule_set():
    """`ruff check .` with ruff.toml's rules reports nothing (CI runs it through this test)."""
    import subprocess
    import sys

    pytest.importorskip("ruff")
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "."], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:]
