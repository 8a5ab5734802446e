"""Errors of the re-login engine; each names the registry/profile and says what to do."""

from __future__ import annotations

from tray_app.errors import TrayAppError


class RenewError(TrayAppError):
    """A login step failed. ``title`` names the registry or profile; ``hint`` the fix."""


class BrowserNeeded(RenewError):
    """The SSO session can only be renewed by signing in in a browser (not done unasked)."""


class SsoLoginFailed(RenewError):
    """`aws sso login` (or the native device flow) was cancelled, timed out or failed."""


class SsoSessionRefused(BrowserNeeded):
    """The SSO portal refused a token the cache calls valid (signed out elsewhere, revoked)."""
