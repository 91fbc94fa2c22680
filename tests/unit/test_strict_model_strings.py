"""Mobile API strings are taken exactly as sent, so the OpenAPI document's maxLength and patterns
are the whole truth (whitespace cannot carry a value past its limit), and required text must hold
a non-blank character. (The console API strips; its documents are written for people.)"""

from __future__ import annotations

import json

import pytest
from pydantic import Field, ValidationError

from backend.web.requests import StrictModel as ConsoleModel
from mobile_api.schemas import NON_BLANK, StrictModel


class Body(StrictModel):
    name: str = Field(min_length=1, max_length=8, pattern=NON_BLANK)
    note: str = Field(default="", max_length=4)


def parse(**data: object) -> Body:
    return Body.model_validate_json(json.dumps(data), strict=True)


def test_strings_are_kept_as_sent() -> None:
    assert (parse(name=" pump ", note=" ok ").name, parse(name="pump", note=" ok ").note) == (" pump ", " ok ")


@pytest.mark.parametrize("name", [" " + "x" * 8, "x" * 8 + "\n", "x" * 9])
def test_too_long_as_sent_is_refused_naming_the_field(name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse(name=name)
    [error] = caught.value.errors()
    assert error["loc"] == ("name",) and error["type"] == "string_too_long"


def test_blank_required_text_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        parse(name="   ")
    assert caught.value.errors()[0]["type"] == "string_pattern_mismatch"


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        parse(name="pump", extra="x")
    assert caught.value.errors()[0]["type"] == "extra_forbidden"


def test_the_console_still_strips() -> None:
    class Console(ConsoleModel):
        name: str = Field(min_length=1, max_length=8)

    assert Console.model_validate({"name": "  pump  "}).name == "pump"
