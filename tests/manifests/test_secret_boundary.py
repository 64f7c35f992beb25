"""Secret references have a boundary: never the tool's own variables, a CI job's
credential, Git's folder, or outside the manifests' repository; an optional allowlist."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from reconciler import environment
from reconciler.manifests.loader import load
from reconciler.manifests.model import SecretRef
from reconciler.manifests.references import EnvAllowlist, env_refusal
from tests.manifests.conftest import Write, errors_of

AUTH = (
    'version: 1\nmerchants:\n  - name: "{name}"\n    connections:\n      - platformKey: dfxm\n'
    "        authorization:\n          token: {value}\n"
)


def auth(value: str, name: str = "1") -> str:
    return AUTH.format(name=name, value=value)


OWN = "is one codat-reconciler reads for itself"


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("CODAT_RECONCILER_KEY", "CODAT_*"),
        ("CODAT_API_KEY", "CODAT_*"),
        ("CODAT_WEBHOOK_SECRET", "CODAT_*"),
        ("CODAT_SOMETHING_LATER", "CODAT_*"),  # the whole namespace, not only today's
        ("codat_api_key", "CODAT_*"),  # one variable with CODAT_API_KEY on Windows
        ("NO_COLOR", "NO_COLOR"),
        ("HTTPS_PROXY", "*_PROXY"),  # read by the HTTP client; may carry a password
        ("https_proxy", "*_PROXY"),
        ("SSL_CERT_FILE", "SSL_CERT_FILE"),
    ],
)
def test_the_tools_own_variables_are_refused_with_their_position(
    write: Write, name: str, pattern: str
) -> None:
    write("m/a.yaml", auth(f"{{env: {name}}}"))
    assert errors_of("m") == [
        f"m/a.yaml:7:18: environment variable {name} {OWN} ({pattern}): an authorization "
        "value never comes from it; give the merchant's credential a variable of its own"
    ]


def test_every_variable_the_tool_reads_is_refused() -> None:
    for name in environment.READ:
        refusal = env_refusal(name, EnvAllowlist(("*",), "--secret-env"))
        assert refusal is not None and OWN in refusal, name


@pytest.mark.parametrize(
    "name",
    [
        "GITHUB_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "ACTIONS_RUNTIME_TOKEN",
        "CI_JOB_TOKEN",
        "SYSTEM_ACCESSTOKEN",
    ],
)
def test_ci_job_credentials_are_refused(write: Write, name: str) -> None:
    write("m/a.yaml", auth(f"{{env: {name}}}"))
    [error] = errors_of("m")
    assert error.startswith(f"m/a.yaml:7:18: environment variable {name} holds the CI job's")


def test_a_refused_variable_in_the_files_defaults_is_refused_there(write: Write) -> None:
    write(
        "m/a.yaml",
        "version: 1\ndefaults:\n  connections:\n    - platformKey: dfxm\n"
        "      authorization: {apiKey: {env: CODAT_API_KEY}}\n"
        'merchants:\n  - name: "1"\n',
    )
    [error] = errors_of("m")
    assert error.startswith(f"m/a.yaml:5:31: environment variable CODAT_API_KEY {OWN}")


@pytest.mark.parametrize(
    "written",
    [
        "../.git/config",  # where actions/checkout keeps the job's token
        ".git/config",
        "../.git/modules/sub/config",  # a submodule's gitdir
        "../.GIT/config",  # .git itself on a case-insensitive disk
        "../keys/../.git/config",
    ],
)
def test_files_in_gits_folder_are_refused(write: Write, written: str) -> None:
    write("repo/.git/config", "[http] extraheader = AUTHORIZATION: basic c2VjcmV0")
    write("repo/.git/modules/sub/config", "x")
    write("repo/.GIT/config", "x")
    write("repo/m/a.yaml", auth(f"{{file: {written}}}"))
    assert errors_of("repo/m/a.yaml") == [
        f"repo/m/a.yaml:7:18: secret file '{written}' is inside Git's own folder (.git): "
        "an authorization value never comes from it"
    ]


def test_a_link_into_gits_folder_and_a_worktrees_git_file_are_refused(write: Write) -> None:
    # A worktree: .git is a file naming its gitdir; the folder holding it is the root.
    write("wt/.git", "gitdir: ../main/.git/worktrees/wt\n")
    write("wt/m/a.yaml", auth("{file: ../.git}"))
    write("wt/m/b.yaml", auth("{file: key}", name="2"))
    os.symlink("../.git", "wt/m/key")
    write("wt/m/c.yaml", auth("{file: ../keys/ok.key}", name="3"))
    write("wt/keys/ok.key", "fine")
    assert [e.split(": ", 1)[1] for e in errors_of("wt/m")] == [
        "secret file '../.git' is inside Git's own folder (.git): "
        "an authorization value never comes from it",
        "secret file 'key' is inside Git's own folder (.git): "
        "an authorization value never comes from it",
    ]
    write("wt/m/b.yaml", auth("{file: ../keys/ok.key}", name="2"))
    Path("wt/m/a.yaml").unlink()
    state = load(["wt/m"])
    ref = state.merchants[0].connections[0].authorization["token"]  # type: ignore[index]
    assert isinstance(ref, SecretRef) and ref.path == Path("wt/keys/ok.key").resolve()


def test_without_git_the_boundary_is_the_manifests_own_folder_however_it_is_named(
    write: Write,
) -> None:
    write("m/keys/k.key", "secret")
    write("m/sub/a.yaml", auth("{file: ../keys/k.key}"))
    root = Path("m/sub").resolve()
    message = (
        f"secret file '../keys/k.key' is outside this manifest's folder ({root}; "
        "there is no .git above it)"
    )
    # Named by its folder, by a folder above it, or by itself: the same answer.
    for given in ("m", "m/sub", "m/sub/a.yaml"):
        assert [e.split(": ", 1)[1] for e in errors_of(given)] == [message], given


def test_an_allowlist_admits_only_matching_names(write: Write) -> None:
    write("m/a.yaml", auth("{env: ACME_TOKEN}"))
    write("m/b.yaml", auth("{env: BOLT_TOKEN}", name="2"))
    write("m/c.yaml", auth("{env: acme_lower}", name="3"))
    allow = EnvAllowlist.parse(["ACME_*"], "--secret-env")
    with pytest.raises(Exception) as caught:
        load(["m"], secret_env=allow)
    lines = str(caught.value).splitlines()[:-1]
    refused = "is not allowed by --secret-env (ACME_*): an authorization value comes only from"
    assert lines == [
        f"m/b.yaml:7:18: environment variable BOLT_TOKEN {refused} a variable matching one "
        "of these",
        f"m/c.yaml:7:18: environment variable acme_lower {refused} a variable matching one "
        "of these",
    ]
    both = EnvAllowlist.parse(["ACME_* BOLT_?OKEN,acme_*"], "CODAT_SECRET_ENV")
    assert len(load(["m"], secret_env=both).merchants) == 3


def test_an_allowlist_cannot_readmit_the_tools_own_variables(write: Write) -> None:
    write("m/a.yaml", auth("{env: CODAT_RECONCILER_KEY}"))
    [error] = errors_of("m")  # without an allowlist
    assert OWN in error
    with pytest.raises(Exception) as caught:
        load(["m"], secret_env=EnvAllowlist.parse(["*"], "--secret-env"))
    assert OWN in str(caught.value)


@pytest.mark.parametrize(
    ("texts", "problem"),
    [
        ([""], "no pattern given"),
        ([" , "], "no pattern given"),
        (["ACME-*"], "'ACME-*' is not a variable name pattern"),
    ],
)
def test_an_allowlist_that_names_nothing_usable_is_refused(texts: list[str], problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        EnvAllowlist.parse(texts, "--secret-env")
