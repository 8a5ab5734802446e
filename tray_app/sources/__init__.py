"""One reader per place credentials live. Each returns records and problems, never raises."""

from __future__ import annotations

from dataclasses import dataclass, field

from tray_app.model import FoundLogin, SourceProblem


@dataclass
class Findings:
    """What a source found: logins, and problems naming their file."""

    logins: list[FoundLogin] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)
    notices: list[SourceProblem] = field(default_factory=list)  # quiet: not errors

    def extend(self, other: Findings) -> None:
        self.logins.extend(other.logins)
        self.problems.extend(other.problems)
        self.notices.extend(other.notices)

    def problem(self, source: object, message: str) -> None:
        self.problems.append(SourceProblem(str(source), message))
