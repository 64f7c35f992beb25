"""The environment variables codat-reconciler reads for itself, and CI credentials.

A manifest's authorization may come from `{env: NAME}`, but never from one of
these: a merged manifest naming `CODAT_API_KEY` would otherwise have the tool PUT
its own API key to Codat as a merchant's credential. The loader refuses them
(reconciler/manifests/references.py); tests/test_environment.py fails when the
code reads a variable not declared here, so a new one cannot slip past the rule.
Patterns are shell-style and compared without regard to letter case: on Windows
`codat_api_key` and `CODAT_API_KEY` are one variable.
"""

from __future__ import annotations

# Every variable of the tool, read or future, is CODAT_*; these are the ones read today.
OWN_PREFIX = "CODAT_*"
API_KEY = "CODAT_API_KEY"
BASE_URL = "CODAT_BASE_URL"
SANDBOX = "CODAT_SANDBOX"
TIMEOUT = "CODAT_TIMEOUT"
RECONCILER_KEY = "CODAT_RECONCILER_KEY"
WEBHOOK_SECRET = "CODAT_WEBHOOK_SECRET"
SANDBOX_WEBHOOK_SECRET = "CODAT_SANDBOX_WEBHOOK_SECRET"
SECRET_ENV = "CODAT_SECRET_ENV"
NO_COLOR = "NO_COLOR"
TERM = "TERM"

READ: tuple[str, ...] = (
    API_KEY,
    BASE_URL,
    SANDBOX,
    TIMEOUT,
    RECONCILER_KEY,
    WEBHOOK_SECRET,
    SANDBOX_WEBHOOK_SECRET,
    SECRET_ENV,
    NO_COLOR,
    TERM,
)

# Read by the HTTP client (httpx trusts the environment): proxies, whose URLs can
# carry a password (`*_PROXY`: urllib reads every `<scheme>_proxy`), and CA bundles.
HTTP_CLIENT: tuple[str, ...] = ("*_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR")

OWN: tuple[str, ...] = (OWN_PREFIX, *READ, *HTTP_CLIENT)

# Credentials a CI platform puts in the job's environment for the job itself (its
# repository token, OIDC token requests, registry passwords). None can be a merchant's
# credential, and all are within reach of whoever can merge a manifest. A deny-list is
# never complete, which is what `--secret-env` (an allowlist) is for.
CI_CREDENTIALS: tuple[str, ...] = (
    "GITHUB_TOKEN",  # GitHub Actions, when the workflow hands it to the step
    "GH_TOKEN",  # the gh CLI's token, often set to the above
    "ACTIONS_*",  # ACTIONS_RUNTIME_TOKEN, ACTIONS_ID_TOKEN_REQUEST_TOKEN, ...
    "CI_JOB_TOKEN",  # GitLab CI, every job
    "CI_JOB_JWT*",
    "CI_REGISTRY_PASSWORD",
    "CI_DEPLOY_PASSWORD",
    "SYSTEM_ACCESSTOKEN",  # Azure Pipelines
    "BITBUCKET_STEP_OIDC_TOKEN",
    "CIRCLE_OIDC_TOKEN*",
    "BUILDKITE_AGENT_ACCESS_TOKEN",
)
