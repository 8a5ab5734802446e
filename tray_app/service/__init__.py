"""The application layer: what the front ends (CLI commands, `watch`, both trays) call.

It owns the application's side effects, each in one place: taking a snapshot for a scope and
writing the prompt summary, the list of files where logins live, changes to a user's files as
transactions (prepare, verify, commit), and running a menu action off the GUI thread.
Front ends call inward only; no command imports another command.

- ``snapshots``: ``take(paths, kubernetes=...)`` and ``Snapshots`` (the tray's and `watch`'s):
  where a snapshot is taken and the prompt summary written (only from a complete one);
- ``login_files``: ``login_files(paths)``, the one list of files where logins live;
- ``refresh``: a stale prompt summary refreshed by one detached ``status --quiet``;
- ``handover``: ``hand_over`` / ``take_back``, a registry to ecr-login and back;
- ``actions``: where a menu click runs, for every front end;
- ``ensure``: making logins last (`ecr-token-tray ensure`).

This package's ``__init__`` stays empty of code: `status` imports it on every start.
"""
