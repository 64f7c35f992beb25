"""A local, Codat-compatible API: one implementation, served in-process or over HTTP.

`SandboxApp` answers requests; `SandboxTransport` puts it behind an httpx client
(the `--sandbox PATH` mode); `SandboxServer` puts it behind a real socket
(`codat-reconciler sandbox serve`). State lives in a SQLite file (`SandboxStore`).
"""

from reconciler.sandbox.app import SandboxApp
from reconciler.sandbox.clock import Clock
from reconciler.sandbox.messages import SandboxResponse
from reconciler.sandbox.store import SandboxStore
from reconciler.sandbox.transport import SandboxTransport

__all__ = ["Clock", "SandboxApp", "SandboxResponse", "SandboxStore", "SandboxTransport"]
