"""One reader per place credentials live. Each returns records and problems, never raises."""

from __future__ import annotations

from tray_app.model import FoundLogin, SourceProblem


class Findings:
    """What a source found: logins, and problems naming their file."""

    __slots__ = ("logins", "problems")

    def __init__(self) -> None:
        self.logins: list[FoundLogin] = []
        self.problems: list[SourceProblem] = []

    def extend(self, other: Findings) -> None:
        self.logins.extend(other.logins)
        self.problems.extend(other.problems)

    def problem(self, source: object, message: str) -> None:
        self.problems.append(SourceProblem(str(source), message))
