"""The one error type of the app.

Kept free of heavy imports. Every error carries a short ``title`` (what went wrong,
naming the file, helper or registry) and a ``hint`` (what to do). Front ends print
``str(error)`` as one line; neither part ever holds a secret.
"""

from __future__ import annotations


class TrayAppError(Exception):
    def __init__(self, title: str, hint: str = "") -> None:
        super().__init__(title, hint)
        self.title = title
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.title} - {self.hint}" if self.hint else self.title


class TokenError(TrayAppError):
    """A docker `auth` value or ECR token could not be decoded."""


class SourceError(TrayAppError):
    """A file or credential helper could not be read."""
