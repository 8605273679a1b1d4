"""One exception hierarchy; the CLI maps it to exit codes (2 bad input, 1 internal)."""

from __future__ import annotations


class CampaignSimError(Exception):
    """Base class of every error campaign-sim raises on purpose."""

    exit_code = 1


class InputError(CampaignSimError):
    """The user gave something unusable (file, option, config): exit code 2."""

    exit_code = 2


class ConfigError(InputError):
    """A campaign config key is missing, mistyped or out of range."""


class DataError(InputError):
    """A log file is unreadable or breaks the schema.

    The message always names the file, and where known the column, the first bad
    row (1-based over data rows) and what was expected.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        column: str | None = None,
        row: int | None = None,
        expected: str | None = None,
    ) -> None:
        self.file, self.column, self.row = file, column, row
        self.problem, self.expected = problem, expected
        where = [part for part in (file, _col(column), _row(row)) if part]
        text = ": ".join([", ".join(where), problem] if where else [problem])
        if expected:
            text += f"; expected {expected}"
        super().__init__(one_line(text))


def _col(column: str | None) -> str | None:
    return f"column '{column}'" if column is not None else None


def _row(row: int | None) -> str | None:
    return f"row {row}" if row is not None else None


def one_line(text: str) -> str:
    """``text`` with line breaks folded and control characters escaped (errors are one line)."""
    text = " ".join(text.split("\n"))
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
