"""The application layer: what the front ends (CLI commands, `watch`, both trays) call.

It owns the application's side effects, each in one place: taking a snapshot for a scope and
writing the prompt summary, the list of files where logins live, changes to a user's files as
transactions (prepare, verify, commit), and running a menu action off the GUI thread.
Front ends call inward only; no command imports another command.
"""
