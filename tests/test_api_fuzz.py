"""Schemathesis on our own OpenAPI document: generated requests, anonymous and with a staff
token, never get a 5xx and every answer matches the document. Seeded and bounded.

Each operation's strategy is run under Hypothesis directly (Schemathesis' lazy pytest fixture
does not work with this pytest), on a fresh app with accounts, ratings and a flag."""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (allow_header_conformance, content_type_conformance,
                                               missing_required_header, negative_data_rejection,
                                               positive_data_acceptance,
                                               response_headers_conformance,
                                               response_schema_conformance, status_code_conformance,
                                               unsupported_method)

from support import examples

pytestmark = pytest.mark.fuzz

# not only "no 5xx": every answer as the document says, what it allows accepted, what it forbids
# refused
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance, negative_data_rejection,
          positive_data_acceptance, missing_required_header, unsupported_method,
          allow_header_conformance]
BOUNDED = settings(max_examples=examples(15), derandomize=True, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))


# A request the document allows but that cannot be done (a range whose end comes before its
# start, a national station one step up) is a 409 or a 422, never a 400: a 400 says the
# request broke the document.
CONFIG = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]}}})


def fuzz_every_operation(app, headers: dict) -> list[str]:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()
        known = {"code": "ST-001"} if "{code}" in operation.path else None
        for mode, path_parameters in [(GenerationMode.POSITIVE, None),
                                      (GenerationMode.NEGATIVE, None),
                                      (GenerationMode.POSITIVE, known),
                                      (GenerationMode.NEGATIVE, known)]:
            if path_parameters is None and known and mode is GenerationMode.NEGATIVE:
                continue  # a made-up code answers 404 before anything else is read

            @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
            @BOUNDED
            def call(case):
                case.call_and_validate(checks=CHECKS, headers=headers)

            try:
                call()
            except Unsatisfiable:
                # nothing of this operation can be made invalid (no parameters, no body)
                assert mode is GenerationMode.NEGATIVE, operation.label
        tried.append(operation.label)
    return tried


def test_anonymous_requests_get_no_server_error_and_match_the_document(app, staff):  # noqa: F811
    assert len(fuzz_every_operation(app, {})) >= 6


@pytest.mark.parametrize("role", ["ins", "mgr"])
def test_staff_token_requests_get_no_server_error_and_match_the_document(app, staff, role):  # noqa: F811
    assert len(fuzz_every_operation(app, {"Authorization": f"Bearer {staff[role]}"})) >= 6
