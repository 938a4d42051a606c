"""JSON from an LLM or an endpoint: nesting is bounded and every failure is a ValueError."""

from __future__ import annotations

import json

import pytest

from fnreg import safe_json


def test_ordinary_json_reads_as_json_does() -> None:
    text = json.dumps({"choices": [{"message": {"content": "hi", "tool_calls": [{"id": "1"}]}}]})
    assert safe_json.loads(text) == json.loads(text)
    assert safe_json.loads(text.encode()) == json.loads(text)


def test_nesting_up_to_the_limit_is_accepted_and_beyond_is_refused() -> None:
    limit = safe_json.MAX_DEPTH
    assert safe_json.nesting_depth(safe_json.loads("[" * limit + "]" * limit)) == limit
    with pytest.raises(safe_json.JSONTooDeep, match=f"nested more than {limit} levels deep"):
        safe_json.loads("[" * (limit + 1) + "]" * (limit + 1))


@pytest.mark.parametrize("depth", [150, 900, 50_000])
def test_deep_nesting_is_a_value_error_never_a_recursion_error(depth: int) -> None:
    for text in ("[" * depth + "]" * depth, '{"a": ' * depth + "1" + "}" * depth):
        with pytest.raises(ValueError):
            safe_json.loads(text)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"code": "x = " + "[" * 500 + "]" * 500})
    assert safe_json.loads(text)["code"].startswith("x = [[[")


@pytest.mark.parametrize("text", ["{not json", "", "7" * 5000, b"\xff\xfe"])
def test_other_failures_are_value_errors(text: str | bytes) -> None:
    with pytest.raises(ValueError):
        safe_json.loads(text)


def test_nesting_depth_stops_early() -> None:
    value: list = []
    for _ in range(10_000):
        value = [value]
    assert safe_json.nesting_depth(value, stop_after=10) == 11
    assert safe_json.nesting_depth(7) == 0 and safe_json.nesting_depth({"a": {}}) == 2
