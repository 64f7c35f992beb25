"""A local, Codat-compatible API: one implementation, served in-process or over HTTP.

`app.SandboxApp` answers requests; `transport.SandboxTransport` puts it behind an
httpx client (the `--sandbox PATH` mode); `server.SandboxServer` puts it behind a
real socket (`codat-reconciler sandbox serve`). State lives in a SQLite file
(`store.SandboxStore`). Nothing is imported here, so that importing one module of the
sandbox does not start the server's imports. What a new Codat client starts with (its
documented defaults) is in `reconciler/codat/client_defaults.py`, shared with the planner
and `export`.
"""
