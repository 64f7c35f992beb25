"""The `client:` section: its shape, Codat's limits, and errors at FILE:LINE:COLUMN."""

from __future__ import annotations

from reconciler.manifests.loader import load
from tests.manifests.conftest import Write, errors_of

HOOK = "https://r.example.com/webhooks/codat"


def test_a_client_section_loads_as_declared(write: Write) -> None:
    write(
        "c.yaml",
        f"""\
version: 1
client:
  webhooks:
    - url: {HOOK}
      eventTypes: [connection.created, company.deleted, company.deleted]
      companyTags: ["managed-by:codat-reconciler"]
    - url: https://old.example.com/hook
      absent: true
  syncSettings:
    - dataType: commerce-orders
      fetchOnFirstLink: true
  syncFlowUi:
    text:
      en-us: {{configure-misc-nextButton: Go, configure-misc-previousButton: null}}
    visibleAccounts:
      gbol: [sales-accounts-sales]
merchants: []
""",
    )
    client = load(["c.yaml"]).client
    assert client is not None
    hook, old = client.webhooks
    assert hook.url == HOOK and hook.event_types == ("company.deleted", "connection.created")
    assert hook.company_tags == ("managed-by:codat-reconciler",) and not hook.absent
    assert old.absent and old.event_types == ()
    (setting,) = client.sync_settings
    assert setting.data_type == "commerce-orders" and setting.fields == {"fetchOnFirstLink": True}
    assert client.text == {
        "en-us": {"configure-misc-nextButton": "Go", "configure-misc-previousButton": None}
    }
    assert client.visible_accounts == {"gbol": ("sales-accounts-sales",)}
    assert load(["c.yaml"]).merchants == ()


def test_a_second_client_section_is_an_error_naming_both_files(write: Write) -> None:
    text = (
        f"version: 1\nclient:\n  webhooks:\n    - url: {HOOK}\n      absent: true\nmerchants: []\n"
    )
    write("a.yaml", text)
    write("b.yaml", text)
    assert errors_of("a.yaml", "b.yaml") == [
        "b.yaml:3:3: a second client section: a.yaml:3:3 already declares the client-wide "
        "settings; keep them in one file"
    ]


def test_codats_limits_and_duplicates_are_named_where_they_are_written(write: Write) -> None:
    tags = ", ".join(f'"k{i}:v"' for i in range(11))
    many = "".join(f"    - {{url: https://h{i}.example.com/x, absent: true}}\n" for i in range(51))
    write(
        "c.yaml",
        f"""\
version: 1
client:
  webhooks:
    - url: {HOOK}
      eventTypes: [company.deleted]
      companyTags: [{tags}]
    - url: {HOOK}
      eventTypes: []
      companyTags: ["{"k:" + "v" * 130}", "novalue"]
    - url: ftp://x.example.com/
      evenTypes: [company.deleted]
  syncSettings:
    - dataType: commerce-order
    - dataType: commerce-orders
      syncSchedule: soon
    - dataType: commerce-orders
  syncFlowUi:
    text:
      en-uk: {{a: b}}
      fr-fr: {{a: 3}}
merchants: []
""",
    )
    assert errors_of("c.yaml") == [
        "c.yaml:6:20: at most 10 company tags (Codat's limit)",
        "c.yaml:8:19: eventTypes must list at least one event type (Codat's rule)",
        "c.yaml:9:21: a company tag is at most 128 characters (Codat's limit)",
        "c.yaml:9:157: a company tag is key:value, like managed-by:codat-reconciler",
        "c.yaml:10:12: url must be an absolute http or https URL, like "
        "https://reconciler.example.com/webhooks/codat",
        "c.yaml:11:7: unknown key 'evenTypes' (did you mean 'eventTypes'?)",
        "c.yaml:13:17: dataType must be one of Codat's data types, e.g. commerce-orders "
        "(did you mean 'commerce-orders'?)",
        "c.yaml:15:21: 'syncSchedule' must be a whole number, got text",
        "c.yaml:19:7: locale 'en-uk' is not one of the sync flow's locales: en-us, fr-fr "
        "(did you mean 'en-us'?)",
        "c.yaml:20:18: a text is text in quotes, or null for Codat's default",
    ]
    write("d.yaml", f"version: 1\nclient:\n  webhooks:\n{many}merchants: []\n")
    assert errors_of("d.yaml") == ["d.yaml:4:5: at most 50 webhook consumers (Codat's limit)"]
    write(
        "e.yaml",
        f"""\
version: 1
client:
  webhooks:
    - {{url: {HOOK}, eventTypes: [company.deleted]}}
    - {{url: {HOOK}, absent: true}}
    - {{url: https://other.example.com/x}}
  syncSettings:
    - {{dataType: commerce-orders, syncSchedule: 2}}
    - {{dataType: commerce-orders, syncSchedule: 3}}
merchants: []
""",
    )
    assert errors_of("e.yaml") == [
        f"e.yaml:5:13: webhook consumer {HOOK} is declared twice (first at line 4): one "
        "consumer per URL",
        "e.yaml:6:7: missing required key 'eventTypes' in this webhook consumer (a consumer "
        "gets at least one event type; `absent: true` deletes it)",
        "e.yaml:9:18: data type commerce-orders is declared twice (first at line 8): one "
        "setting per data type",
    ]


def test_the_fast_check_and_the_schema_agree_on_client_sections() -> None:
    from reconciler.manifests.schema import fast_check, validator

    check = fast_check()
    assert check is not None  # the new keywords (minItems, maxItems) are compiled too
    hook = {"url": HOOK, "eventTypes": ["company.deleted"]}
    documents = [
        {"version": 1, "merchants": [], "client": {"webhooks": [hook]}},
        {"version": 1, "merchants": [], "client": {"webhooks": [{**hook, "eventTypes": []}]}},
        {"version": 1, "merchants": [], "client": {"webhooks": [hook] * 51}},
        {"version": 1, "merchants": [], "client": {"webhooks": [hook] * 50}},
        {
            "version": 1,
            "merchants": [],
            "client": {"webhooks": [{**hook, "companyTags": ["a:b"] * 11}]},
        },
        {"version": 1, "merchants": [], "client": {"syncSettings": [{"dataType": "x"}]}},
        {"version": 1, "merchants": [], "client": {"syncFlowUi": {"text": {"fr-fr": {"k": None}}}}},
        {
            "version": 1,
            "merchants": [],
            "client": {"syncFlowUi": {"visibleAccounts": {"GBOL": []}}},
        },
    ]
    verdicts = [check(d) for d in documents]
    assert verdicts == [not list(validator().iter_errors(d)) for d in documents]
    assert verdicts == [True, False, False, True, False, False, True, False]


def test_text_and_account_keys_are_codats_documented_ones(write: Write) -> None:
    write(
        "t.yaml",
        """\
version: 1
client:
  syncFlowUi:
    text:
      en-us: {configure-misc-nextButon: x}
    visibleAccounts:
      gbol: [sales-accounts-sales, sales-accounts-sale]
merchants: []
""",
    )
    assert errors_of("t.yaml") == [
        "t.yaml:5:41: unknown text key 'configure-misc-nextButon' (did you mean "
        "'configure-misc-nextButton'?)",
        "t.yaml:7:36: unknown account key 'sales-accounts-sale' (did you mean "
        "'sales-accounts-sales'?)",
    ]
