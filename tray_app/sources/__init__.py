"""One reader per place credentials live. Each returns records and problems, never raises."""

from __future__ import annotations

from tray_app.model import FoundLogin, SourceProblem


class Findings:
    """What a source found: logins, and problems naming their file."""

    __slots__ = ("broken_helpers", "logins", "notices", "problems")

    def __init__(self) -> None:
        self.logins: list[FoundLogin] = []
        self.problems: list[SourceProblem] = []
        self.notices: list[SourceProblem] = []  # quiet facts (a stopped cluster): not errors
        self.broken_helpers: dict[str, str] = {}  # credential helper -> its error line

    def extend(self, other: Findings) -> None:
        self.logins.extend(other.logins)
        self.problems.extend(other.problems)
        self.notices.extend(other.notices)
        for name, output in other.broken_helpers.items():
            self.broken_helpers.setdefault(name, output)

    def problem(self, source: object, message: str) -> None:
        self.problems.append(SourceProblem(str(source), message))
