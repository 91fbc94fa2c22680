"""Schemathesis over the served OpenAPI 3.1 document (/api/mobile/v1/openapi.json), in process
against the ASGI app, authenticated as an engineer with real orders in the database: every
operation, positive and negative data; no server errors, responses (status, content type, headers,
body) conform to the document, negative data is rejected, a missing token is a 401."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.clock import FrozenClock
from backend.settings import Settings
from fieldline.app import create_app
from mobile_api.routes import OPERATIONS
from tests.integration.mobile.harness import MobileHarness
from tests.support.apptest import START, migrated_settings, open_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection, missing_required_header, ignored_auth]


# Negative data must be refused with a 4xx. Schemathesis' default list omits 413, which is what a body
# over the size cap gets before anything else is read (a photo's data_base64 past its maxLength in
# multi-byte characters is > 1 MiB): a correct refusal, so it is accepted here.
CONFIG = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": [
    400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429, "5xx"]}}})

EXAMPLES = 8  # per operation and pass: the whole run stays well under a minute
KNOWN = {"id": 4, "device_id": 1}  # the on-site order and the device the fixture creates


@pytest.fixture(params=["sqlite"])
def mobile_schema(request: pytest.FixtureRequest, settings: Settings) -> Iterator[tuple[Any, dict[str, str]]]:
    """A database with an engineer, orders in several states and a device; the app schemathesis
    drives is a second instance on the same database and clock."""
    with migrated_settings(request, settings) as migrated:
        with open_app(migrated, harness=MobileHarness) as mobile:
            for _ in range(3):
                mobile.new_order(engineer=mobile.r.eng_a)
            mobile.walk_to_site(mobile.new_order(engineer=mobile.r.eng_a).id)
            mobile.post("/devices", {"token": "token-fuzz-0123456789", "platform": "android"})
            auth = dict(mobile.bearer(mobile.r.eng_a))
        app = create_app(migrated, clock=FrozenClock(START))
        try:
            yield schemathesis.openapi.from_asgi("/api/mobile/v1/openapi.json", app, config=CONFIG), auth
        finally:
            schemathesis.python.asgi.shutdown_lifespans()


def test_mobile_api_conforms_to_its_openapi_document(mobile_schema: tuple[Any, dict[str, str]]) -> None:
    # schemathesis' pytest plugin (``@schema.parametrize``) does not run under pytest 9 (it reads the
    # removed ``Node._nodeid``), so each operation is driven through its Hypothesis strategies.
    schema, auth = mobile_schema
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(OPERATIONS)  # every served operation is in the document
    seen: dict[str, set[int]] = {}
    for operation in operations:
        # Random ids mostly name nothing (404); a third pass pins the ids of real objects.
        pinned = {k: v for k, v in KNOWN.items() if "{" + k + "}" in operation.path}
        passes = [(GenerationMode.POSITIVE, None), (GenerationMode.NEGATIVE, None)]
        if pinned:
            passes.append((GenerationMode.POSITIVE, pinned))
        for mode, path_parameters in passes:
            @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
            @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                      database=None, phases=[Phase.explicit, Phase.generate])
            def run(case: Any) -> None:
                response = case.call_and_validate(headers=auth, checks=CHECKS)
                seen.setdefault(case.operation.label, set()).add(response.status_code)

            run()
    assert set(seen) == {op.label for op in operations}
    succeeded = {label for label, codes in seen.items() if codes & {200, 201}}
    assert {"GET /work-orders/{id}", "GET /work-orders/{id}/check-ins", "POST /devices"} <= succeeded
