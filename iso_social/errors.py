"""One exception hierarchy for every stage; the CLI turns these into `error:` / `hint:` lines.

Each exception builds its own message from structured fields, so callers never format text, and
no message ever includes customer text (it may hold personal data): only file names, line numbers,
field names and identifiers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class IsoSocialError(Exception):
    """Base class of every error the tool reports to its user (exit code 2)."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as built (a worker process reports its errors to the parent), not by
        calling `__init__` again with the message as its only argument."""
        return _rebuilt, (type(self), self.args, self.__dict__)


def _rebuilt(cls: type[IsoSocialError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ConfigError(IsoSocialError):
    """A setting, option or environment variable has an unusable value."""

    def __init__(self, setting: str, problem: str, hint: str | None = None) -> None:
        self.setting = setting
        super().__init__(f"{setting}: {problem}", hint=hint)


class PolicyError(IsoSocialError):
    """A policy document is unreadable or invalid; `location` names the field, `line` the line."""

    def __init__(
        self,
        path: Path | str,
        location: str,
        problem: str,
        *,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.path, self.location, self.line, self.problem = Path(path), location, line, problem
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(
            f"{where}: {location}: {problem}" if location else f"{where}: {problem}", hint=hint
        )


class PolicyErrors(IsoSocialError):
    """Several policy problems found in one pass, reported together."""

    def __init__(self, errors: list[PolicyError]) -> None:
        self.errors = errors
        first_hint = next((e.hint for e in errors if e.hint), None)
        super().__init__("\n".join(e.message for e in errors), hint=first_hint)


class IngestError(IsoSocialError):
    """A log file cannot be ingested at all (unreadable, unknown format, or `--strict` rejects)."""

    def __init__(
        self, path: Path | str, problem: str, *, line: int | None = None, hint: str | None = None
    ) -> None:
        self.path, self.line = Path(path), line
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}", hint=hint)


class StoreError(IsoSocialError):
    """The database cannot be opened, read or written."""


class CheckError(IsoSocialError):
    """A check cannot be evaluated (for example an empty or inverted audit window)."""


class EvidenceError(IsoSocialError):
    """Recorded audit evidence is missing, or a requested run does not exist."""


class ReportError(IsoSocialError):
    """A report cannot be rendered or written."""
