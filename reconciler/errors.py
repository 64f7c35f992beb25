"""The one exception type the CLI turns into a clean message and exit code 1.

Everything a user can cause (bad manifests, a refused plan, an API failure) is
raised as a ReconcilerError subclass carrying a message written for that user.
Anything else reaching the top is a bug in this tool.
"""


class ReconcilerError(Exception):
    """A failure the user can act on; str(err) is the whole message."""

    exit_code = 1
    # Shown before the message. Reports whose every line must start with
    # FILE:LINE:COLUMN (for editors and CI annotations) set it to "".
    prefix = "Error: "
