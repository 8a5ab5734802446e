"""Handing registries over to docker-credential-ecr-login, and back, as transactions.

1. prepare: the real helper must be installed; the wrappers that pin a profile are
   written (outside the app's install: ``~/.local/bin`` or the folder the user chose),
   each running the real helper by its absolute path;
2. verify: for each registry, Docker's way: the helper's name found on PATH (it must be
   the wrapper just written), ``get`` through it, and ``GET /v2/`` with its answer;
3. commit: only the registries that passed are mapped in config.json (their stale plain
   login dropped), in one atomic edit.

A registry that failed changes nothing: config.json keeps it byte for byte, and a wrapper
no committed registry needs is put back as it was (removed, or its old content). Its
message says why and what fixes it. ``verify=False`` (``--no-verify``, offline) commits
without step 2, as before, and says that nothing was checked.

Back (:func:`take_back`): the mapping is removed, and with a ``login`` (the re-login
engine: `credhelper disable --login`, the tray's "Back to docker login") a registry whose
new Docker login does not work is put back on its helper, so it never ends up with no
working login; wrappers go only once no host uses them.

The CLI (`credhelper enable|disable`) and the tray's two menu rows call these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tray_app import credhelper
from tray_app.credhelper import CredHelperError, Target, Written
from tray_app.sources.docker_config import ecr_login_profile


@dataclass(frozen=True)
class HandedOver:
    """One registry's result. ``committed``: config.json now maps it to ``helper``."""

    host: str
    helper: str
    committed: bool
    verified: bool | None  # None: not checked (--no-verify)
    message: str  # "HOST: on HELPER - how"; or why nothing changed and what fixes it
    check: str = ""  # the verification's answer ("verified", or why not)


def hand_over(config_path: Path, targets: list[Target], folder: Path | None = None,
              verify: bool = True) -> list[HandedOver]:
    """Hand ``targets`` to ecr-login (see the module's docstring). Raises CredHelperError,
    with nothing changed, when the whole step cannot start (no helper, a config.json that
    cannot be read, ``credsStore`` already ecr-login, a wrapper that cannot be written)."""
    real_helper = credhelper.require_helper()
    config = credhelper.read_config(config_path)
    credhelper.refuse_creds_store(config)
    folder = credhelper.wrapper_folder(folder)
    helpers = {t.registry.host: credhelper.helper_for(t.profile) for t in targets}
    written = _write_wrappers(folder, set(helpers.values()), real_helper)
    results = []
    for host, helper in helpers.items():
        wrapper = written[helper].path if helper in written else None
        check = credhelper.verify(host, helper, wrapper) if verify else None
        results.append((host, helper, check))
    passed = {host: helper for host, helper, check in results
              if check is None or check.verified}
    try:
        if passed:
            credhelper.map_hosts(config_path, passed)
    except CredHelperError:
        _undo(written.values())
        raise
    _undo(w for helper, w in written.items() if helper not in passed.values())
    before = set(credhelper.mapped_helpers(config).values())
    credhelper.remove_unused_wrappers(before - set(passed.values()), config_path, folder)
    return [_result(host, helper, check, host in passed, written)
            for host, helper, check in results]


def _write_wrappers(folder: Path, helpers: set[str], real_helper: str) -> dict[str, Written]:
    written: dict[str, Written] = {}
    try:
        for helper in sorted(helpers):
            profile = ecr_login_profile(helper)
            if profile is not None:
                written[helper] = credhelper.write_wrapper(folder, profile, real_helper)
    except CredHelperError:
        _undo(written.values())
        raise
    return written


def _undo(written) -> None:
    written = list(written)
    for wrapper in written:
        wrapper.undo()
    credhelper.remove_created_folders(written)


def _result(host: str, helper: str, check, committed: bool,
            written: dict[str, Written]) -> HandedOver:
    profile = ecr_login_profile(helper)
    if not committed:
        return HandedOver(host, helper, False, False,
                          f"{host}: not handed over to {helper}, nothing changed -"
                          f" {check.answer}", check.answer)
    how = (f"profile {profile} through {written[helper].path}" if profile
           else "the helper's default profile (AWS_PROFILE, else default)")
    message = f"{host}: on {helper} - {how}"
    if check is None:
        return HandedOver(host, helper, True, None, message,
                          "not verified (--no-verify): Docker uses it without a check")
    return HandedOver(host, helper, True, True, message, check.answer)


@dataclass(frozen=True)
class TakenBack:
    """One registry taken back. ``restored``: its Docker login failed, so it is back on
    ``helper`` as before."""

    host: str
    helper: str
    restored: bool
    message: str


def take_back(config_path: Path, hosts: list[str], folder: Path | None = None,
              login: Callable[[list], object] | None = None) -> list[TakenBack]:
    """Take ``hosts`` back from ecr-login (see the module's docstring). ``login(rows)``
    runs the re-login engine on plain-login rows and returns its LoginReport (or None when
    it could not run). Raises CredHelperError, with nothing changed, when config.json
    cannot be read or written."""
    changes = credhelper.disable(config_path, hosts, folder, remove_wrappers=False)
    restored: dict[str, str] = {}
    if login is not None and changes:
        report = login([_plain_row(change) for change in changes])
        working = {o.host for o in getattr(report, "outcomes", ())
                   if o.result == "refreshed" and o.verified}
        restored = {c.host: c.helper for c in changes if c.host not in working}
        if restored:
            credhelper.map_hosts(config_path, restored)
    removed = credhelper.remove_unused_wrappers({c.helper for c in changes}, config_path,
                                                folder)
    results = []
    for change in changes:
        if change.host in restored:
            results.append(TakenBack(change.host, change.helper, True,
                                     f"{change.host}: stays on {change.helper} - its login"
                                     " with Docker did not work (above), so nothing changed"))
            continue
        text = f"{change.host}: no longer on {change.helper}"
        profile = ecr_login_profile(change.helper)
        gone = next((p for p in removed
                     if profile and p.name == credhelper.wrapper_name(profile)), None)
        if gone is not None:
            text += f"; removed {gone} (no host uses it now)"
            removed.remove(gone)  # said once
        results.append(TakenBack(change.host, change.helper, False, text))
    return results


def _plain_row(change):
    """The row the re-login engine logs in with Docker: the profile the wrapper pinned,
    else the one the files map the registry to."""
    from tray_app.hosts import parse_registry
    from tray_app.settings import Paths
    from tray_app.snapshot import configured_profile

    registry = parse_registry(change.host)
    profile = ecr_login_profile(change.helper) or configured_profile(registry,
                                                                     Paths.from_env())
    return credhelper.plain_login_row(registry, profile)
