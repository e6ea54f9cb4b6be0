"""The field catalogue against sheepCRM's official OpenAPI description."""

from __future__ import annotations

from sheep_xl.frames.catalogue import BY_NAME, CATALOGUE, DEFAULT_COLUMNS, KINDS

# Which catalogue kinds each spec type may map to.
REF_KINDS = {
    "datetime": {"datetime"},
    "date": {"date"},
    "time": {"time"},
    "url": {"url"},
    "uri": {"uri"},
    "uid": {"text"},
}
TYPE_KINDS = {
    "boolean": {"bool"},
    "number": {"number"},
    "integer": {"number"},
    "array": {"list"},
    "string": {"text"},
}
# Plain strings the catalogue deliberately treats as links (documented in catalogue.py).
STRING_URLS = {"conferencing_url", "post_event_url"}


def expected_kinds(name: str, schema: dict) -> set[str]:
    if "$ref" in schema:
        return REF_KINDS[schema["$ref"].rsplit("/", 1)[-1]]
    if schema.get("type") == "object":
        return {"map"} if "additionalProperties" in schema else {"object"}
    if name in STRING_URLS:
        return {"url"}
    return TYPE_KINDS[schema["type"]]


def test_catalogue_matches_the_official_spec(openapi_spec) -> None:
    props = openapi_spec["components"]["schemas"]["EventSingle"]["properties"]
    assert len(props) == 158
    assert [f.name for f in CATALOGUE] == list(props), "every field, in the spec's order"
    wrong = {
        f.name: (f.kind, sorted(expected_kinds(f.name, props[f.name])))
        for f in CATALOGUE
        if f.kind not in expected_kinds(f.name, props[f.name])
    }
    assert wrong == {}


def test_catalogue_is_self_consistent() -> None:
    assert len(CATALOGUE) == 158
    assert len({f.title.lower() for f in CATALOGUE}) == 158, "titles are unique"
    assert len({f.name for f in CATALOGUE}) == 158
    assert {f.kind for f in CATALOGUE} <= set(KINDS)
    for f in CATALOGUE:
        fmt = f.number_format
        if f.kind == "date":
            assert fmt.builtin_id == 14  # the reader's locale short date
        elif f.kind == "datetime":
            assert fmt.builtin_id == 22
        elif f.kind == "time":
            assert fmt.code == "h:mm"
        elif f.kind == "bool":
            assert fmt.code == '"TRUE";"TRUE";"FALSE"'  # TRUE/FALSE in Excel and LibreOffice
        elif f.kind != "number":
            assert fmt.code == "General"
    assert BY_NAME["minimum_ticket_price"].number_format.code == "#,##0.00"
    assert BY_NAME["capacity"].number_format.code == "#,##0"


def test_default_columns() -> None:
    assert 18 <= len(DEFAULT_COLUMNS) <= 24
    assert set(DEFAULT_COLUMNS) <= set(BY_NAME)
    for wanted in (
        "title",
        "start_date",
        "start_time",
        "end_date",
        "end_time",
        "event_type",
        "category",
        "location",
        "cancelled",
        "capacity",
        "total_stock_available",
        "uid",
    ):
        assert wanted in DEFAULT_COLUMNS
