"""Problems found in user input, with the file, row and column a person can act on.

Why one type: the CLI, the upload page and the exports all show the same problems; the
CLI prints the first error as one line, the page shows the whole report.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    severity: Severity
    message: str
    row: int | None = None  # row number as the user sees it (file line or JSON index + 1)
    column: str | None = None
    value: str | None = None
    source: str = ""
    code: str = ""  # catalogue key "problem.<code>" for the UI's languages; message stays English
    params: tuple[tuple[str, str], ...] = ()

    def one_line(self) -> str:
        """'spend.csv row 7, column amount: ... (value '12,3x')' — for CLI and logs."""
        where = [self.source] if self.source else []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}" if self.row is not None or self.source else self.column)
        head = ", ".join(where)
        tail = f" (value {self.value!r})" if self.value not in (None, "") else ""
        return f"{head}: {self.message}{tail}" if head else f"{self.message}{tail}"


def file_problem(name: str, code: str, message: str, **params: object) -> "InputError":
    """A whole-file refusal with its catalogue code (the text is the English one-liner)."""
    return InputError(Problem("error", message, source=name, code=code, params=tuple((k, str(v)) for k, v in params.items())))


class InputError(ValueError):
    """Invalid input; ``problems`` holds every error found, the message the first one."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("error", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = [p for p in problems if p.severity == "error"] or problems
        super().__init__(self.problems[0].one_line())


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """The validation report as a table (for display and CSV download)."""
    cols = ["severity", "source", "row", "column", "value", "message"]
    return pd.DataFrame([{c: getattr(p, c) for c in cols} for p in problems], columns=cols)
