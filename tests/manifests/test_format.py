"""Issue points 1, 3 and 4: the format, its checks, and errors at FILE:LINE:COLUMN."""

from __future__ import annotations

from reconciler.manifests.loader import load
from reconciler.manifests.model import LiteralValue, SecretRef
from tests.manifests.conftest import Write, errors_of

HEAD = 'version: 1\nmerchants:\n  - name: "1"\n'


def test_unknown_key_names_the_closest_allowed_key(write: Write) -> None:
    write("m.yaml", HEAD + "    connections:\n      - platfromKey: dfxm\n")
    assert errors_of("m.yaml") == [
        "m.yaml:5:9: missing required key 'platformKey' in this connection",
        "m.yaml:5:9: unknown key 'platfromKey' (did you mean 'platformKey'?)",
    ]


def test_unknown_key_without_a_close_match_lists_the_allowed_keys(write: Write) -> None:
    write("m.yaml", HEAD + "zzz: 1\n")
    assert errors_of("m.yaml") == [
        "m.yaml:4:1: unknown key 'zzz' (allowed: client, defaults, merchants, version)"
    ]


def test_unknown_key_in_merchant_and_defaults(write: Write) -> None:
    write("m.yaml", "version: 1\ndefaults:\n  tag: {a: b}\nmerchants:\n  - name: x\n    desc: y\n")
    assert errors_of("m.yaml") == [
        "m.yaml:3:3: unknown key 'tag' (did you mean 'tags'?)",
        "m.yaml:6:5: unknown key 'desc' (did you mean 'description'?)",
    ]


def test_missing_required_keys(write: Write) -> None:
    write("m.yaml", "merchants:\n  - description: no name\n")
    assert errors_of("m.yaml") == [
        "m.yaml:1:1: missing required key 'version' in the file",
        "m.yaml:2:5: missing required key 'name' in this merchant",
    ]


def test_wrong_type_is_said_in_plain_words(write: Write) -> None:
    write("m.yaml", HEAD + "    description: 42\n    connections: {platformKey: dfxm}\n")
    assert errors_of("m.yaml") == [
        "m.yaml:4:18: 'description' must be text, got a number",
        "m.yaml:5:18: 'connections' must be a list, got a mapping",
    ]


def test_version_must_be_1(write: Write) -> None:
    write("m.yaml", "version: 2\nmerchants: []\n")
    assert errors_of("m.yaml") == [
        "m.yaml:1:10: version must be 1 (the only manifest format version)"
    ]


def test_company_name_follows_codats_pattern(write: Write) -> None:
    write("m.yaml", 'version: 1\nmerchants:\n  - name: "a/b"\n  - name: ""\n')
    assert errors_of("m.yaml") == [
        "m.yaml:3:11: name may only hold letters, digits, spaces and the characters"
        " - ' , & @ . ? ! (Codat's rule for company names), not '/' (character 2)",
        "m.yaml:4:11: 'name' cannot be empty",
    ]


def test_platform_keys_are_four_lowercase_letters(write: Write) -> None:
    write(
        "m.yaml",
        HEAD + "    syncFlow: {commerceKey: LQAI}\n    connections:\n      - platformKey: dfx\n",
    )
    assert errors_of("m.yaml") == [
        "m.yaml:4:29: a platform key is exactly four lowercase letters, like 'dfxm'",
        "m.yaml:6:22: a platform key is exactly four lowercase letters, like 'dfxm'",
    ]


def test_redirect_url_must_be_absolute_https(write: Write) -> None:
    write(
        "m.yaml",
        'version: 1\nmerchants:\n  - name: "1"\n    syncFlow: {redirectUrl: "http://a.example/x"}\n'
        '  - name: "2"\n    syncFlow: {redirectUrl: /done}\n',
    )
    message = "redirectUrl must be an absolute https URL, like https://app.example.com/codat/done"
    assert errors_of("m.yaml") == [f"m.yaml:4:29: {message}", f"m.yaml:6:29: {message}"]


def test_company_id_must_be_a_uuid(write: Write) -> None:
    write("m.yaml", HEAD + "    companyId: 1234\n")
    assert errors_of("m.yaml") == [
        "m.yaml:4:16: 'companyId' must be text, got a number",
    ]
    write("m.yaml", HEAD + "    companyId: not-a-uuid\n")
    assert errors_of("m.yaml") == [
        "m.yaml:4:16: companyId must be a UUID like 0498e921-9b53-4396-a412-4f2f5983b0a2"
    ]


def test_tag_limits_leave_room_for_the_tools_own_tags(write: Write) -> None:
    long_key = "k" * 28
    write(
        "m.yaml",
        HEAD
        + "    tags:\n"
        + "      managed-by: me\n"
        + f"      {long_key}: v\n"
        + f"      ok: {'v' * 101}\n"
        + "      n: 5\n",
    )
    assert errors_of("m.yaml") == [
        "m.yaml:5:7: tag key 'managed-by' is reserved for codat-reconciler's own use",
        f"m.yaml:6:7: tag key '{long_key}' is longer than 27 characters (Codat's limit)",
        "m.yaml:7:11: a tag value is at most 100 characters (Codat's limit)",
        "m.yaml:8:10: a tag value must be text: put it in quotes",
    ]


def test_at_most_8_tags_counting_the_files_defaults(write: Write) -> None:
    defaults = ", ".join(f"d{i}: v" for i in range(5))
    own = ", ".join(f"m{i}: v" for i in range(4))
    write(
        "m.yaml",
        f"version: 1\ndefaults:\n  tags: {{{defaults}}}\nmerchants:\n"
        f'  - name: "1"\n    tags: {{{own}}}\n  - name: "2"\n',
    )
    assert errors_of("m.yaml") == [
        "m.yaml:6:5: 9 tags once the file's defaults are merged in; at most 8"
        " (Codat allows 10 per company; codat-reconciler uses 2)"
    ]


def test_nine_tags_in_one_mapping(write: Write) -> None:
    own = ", ".join(f"m{i}: v" for i in range(9))
    write("m.yaml", HEAD + f"    tags: {{{own}}}\n")
    assert errors_of("m.yaml") == [
        "m.yaml:4:11: at most 8 tags (Codat allows 10 per company; codat-reconciler uses 2 of them)"
    ]


def test_authorization_values_must_be_quoted_text(write: Write) -> None:
    write(
        "m.yaml",
        HEAD + "    connections:\n      - platformKey: dfxm\n        authorization:\n"
        "          pin: 1234\n          live: true\n          ok: '1234'\n",
    )
    message = (
        "an authorization value must be text: put it in quotes"
        " (the authorization body holds strings only)"
    )
    assert errors_of("m.yaml") == [f"m.yaml:7:16: {message}", f"m.yaml:8:17: {message}"]


def test_secret_reference_shapes(write: Write) -> None:
    write(
        "m.yaml",
        HEAD + "    connections:\n      - platformKey: dfxm\n        authorization:\n"
        "          a: {evn: X}\n          b: {env: X, file: y}\n          c: {}\n"
        "          d: {env: 1X}\n",
    )
    assert errors_of("m.yaml") == [
        "m.yaml:7:15: unknown key 'evn' (did you mean 'env'?)",
        "m.yaml:8:14: a secret reference has one key only: {env: NAME} or {file: PATH}",
        "m.yaml:9:14: a secret reference is {env: NAME} or {file: PATH}",
        "m.yaml:10:20: an environment variable name is letters, digits and _"
        " and does not start with a digit",
    ]


def test_at_most_5_authorized_connections_and_one_per_platform_key(write: Write) -> None:
    keys = ["aaaa", "bbbb", "cccc", "dddd", "eeee", "ffff"]
    body = "".join(
        f"      - platformKey: {k}\n        authorization: {{token: {{env: T}}}}\n" for k in keys
    )
    write("m.yaml", HEAD + "    connections:\n" + body + "      - platformKey: aaaa\n")
    assert errors_of("m.yaml") == [
        "m.yaml:4:5: 6 connections with an authorization; at most 5 per merchant"
        " (their fingerprints share one tag)",
        "m.yaml:17:22: connection 'aaaa' is declared twice (first at line 5):"
        " one connection per platform key",
    ]


def test_merchant_names_unique_across_files(write: Write) -> None:
    write("a.yaml", 'version: 1\nmerchants:\n  - name: "1"\n')
    write("b.yaml", 'version: 1\nmerchants:\n  - name: "2"\n  - name: "1"\n')
    assert errors_of("a.yaml", "b.yaml") == [
        "b.yaml:4:11: merchant name '1' is already declared at a.yaml:3:11:"
        " a name (the Codat company name) must be unique across all manifests"
    ]


def test_a_company_id_pinned_by_two_merchants(write: Write) -> None:
    uuid = "0498e921-9b53-4396-a412-4f2f5983b0a2"
    write("a.yaml", f'version: 1\nmerchants:\n  - name: "1"\n    companyId: {uuid}\n')
    write("b.yaml", f'version: 1\nmerchants:\n  - name: "2"\n    companyId: {uuid.upper()}\n')
    assert errors_of("a.yaml", "b.yaml") == [
        f"b.yaml:4:16: companyId {uuid} is already pinned by another merchant at a.yaml:4:16:"
        " one company cannot be two merchants"
    ]


def test_duplicate_yaml_keys_point_at_the_second(write: Write) -> None:
    write("m.yaml", HEAD + "    description: a\n    description: b\n    tags: {a: x, a: y}\n")
    assert errors_of("m.yaml") == [
        "m.yaml:5:5: duplicate key 'description' (first defined at line 4)",
        "m.yaml:6:18: duplicate key 'a' (first defined at line 6)",
    ]


def test_all_errors_of_all_files_in_one_run(write: Write) -> None:
    write("a.yaml", 'version: 1\nmerchants:\n  - name: "1"\n    tagz: {}\n  - nam: x\n')
    write("b.yaml", "version: 1\nmerchants:\n  - name: [\n")
    write("c.yaml", 'version: 1\nmerchants:\n  - name: "ok"\n')
    try:
        load(["a.yaml", "b.yaml", "c.yaml", "missing.yaml"])
    except Exception as err:
        report = str(err).splitlines()
    assert report == [
        "a.yaml:4:5: unknown key 'tagz' (did you mean 'tags'?)",
        "a.yaml:5:5: missing required key 'name' in this merchant",
        "a.yaml:5:5: unknown key 'nam' (did you mean 'name'?)",
        "b.yaml:4:1: YAML syntax error: while parsing a flow node:"
        " did not find expected node content",
        "missing.yaml:1:1: no such file or directory",
        "5 errors in 3 files",
    ]


def test_defaults_merge_and_undeclared_fields_stay_none(write: Write) -> None:
    write(
        "m.yaml",
        """version: 1
defaults:
  tags: {region: uk, tier: base}
  syncFlow: {commerceKey: lqai, redirectUrl: "https://x.example/done"}
  connections:
    - platformKey: lqai
    - platformKey: dfxm
      authorization: {token: {env: DEFAULT_TOKEN}}
merchants:
  - name: "1"
    description: One
    tags: {tier: gold}
    syncFlow: {commerceKey: fztf, accountingKey: gbol}
    connections:
      - platformKey: dfxm
      - platformKey: gbol
        authorization: {key: literal}
  - name: "2"
    tags: {}
""",
    )
    write("n.yaml", 'version: 1\nmerchants:\n  - name: "3"\n    tags: {}\n  - name: "4"\n')
    state = load(["m.yaml", "n.yaml"])
    one, two, three, four = state.merchants
    assert one.description == "One" and two.description is None
    assert one.tags == {"region": "uk", "tier": "gold"}
    assert two.tags == {"region": "uk", "tier": "base"}
    assert three.tags == {} and four.tags is None
    assert (one.sync_flow.commerce_key, one.sync_flow.accounting_key) == ("fztf", "gbol")
    assert one.sync_flow.redirect_url == "https://x.example/done"
    assert two.sync_flow.commerce_key == "lqai" and two.sync_flow.accounting_key is None
    assert [c.platform_key for c in one.connections] == ["lqai", "dfxm", "gbol"]
    # The merchant's dfxm replaces the default one whole: no authorization left.
    assert one.connections[1].authorization is None
    assert str(one.connections[1].location) == "m.yaml:15:9"
    assert one.connections[2].authorization == {"key": LiteralValue("literal")}
    assert two.connections[1].authorization == {"token": SecretRef("env", "DEFAULT_TOKEN")}
    assert str(two.connections[1].location) == "m.yaml:7:7"
    assert four.connections == () and four.sync_flow.commerce_key is None
    assert str(one.location) == "m.yaml:10:5"
    assert [f for f, _ in state.files] == ["m.yaml", "n.yaml"]


def test_names_of_invalid_merchants_still_count_for_uniqueness(write: Write) -> None:
    write("a.yaml", 'version: 1\nmerchants:\n  - name: "a{b}"\n  - name: "a{b}"\n    x: 1\n')
    assert errors_of("a.yaml") == [
        "a.yaml:3:11: name may only hold letters, digits, spaces and the characters"
        " - ' , & @ . ? ! (Codat's rule for company names), not '{' (character 2)",
        "a.yaml:4:11: merchant name 'a{b}' is already declared at a.yaml:3:11:"
        " a name (the Codat company name) must be unique across all manifests",
        "a.yaml:4:11: name may only hold letters, digits, spaces and the characters"
        " - ' , & @ . ? ! (Codat's rule for company names), not '{' (character 2)",
        "a.yaml:5:5: unknown key 'x' (allowed: companyId, connections, description, name,"
        " onLookalike, syncFlow, tags)",
    ]


def test_on_lookalike_is_adopt_or_create_and_not_beside_a_pin(write: Write) -> None:
    write("m.yaml", HEAD + "    onLookalike: merge\n")
    assert errors_of("m.yaml") == ["m.yaml:4:18: onLookalike must be adopt or create"]
    pin = "0498e921-9b53-4396-a412-4f2f5983b0a2"
    write("p.yaml", HEAD + f"    companyId: {pin}\n    onLookalike: adopt\n")
    assert errors_of("p.yaml") == [
        "p.yaml:5:5: onLookalike has no effect on a merchant pinned with companyId: remove one"
    ]
    write("ok.yaml", HEAD + "    onLookalike: create\n")
    assert load(["ok.yaml"]).merchants[0].on_lookalike == "create"
