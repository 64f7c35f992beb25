"""A local, Codat-compatible API: one implementation, served in-process or over HTTP.

`app.SandboxApp` answers requests; `transport.SandboxTransport` puts it behind an
httpx client (the `--sandbox PATH` mode); `server.SandboxServer` puts it behind a
real socket (`codat-reconciler sandbox serve`). State lives in a SQLite file
(`store.SandboxStore`). Nothing is imported here: a module that needs only Codat's
documented defaults (client_defaults.py, for `export`) must not start the server's
imports.
"""
