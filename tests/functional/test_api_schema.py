"""The API against its own OpenAPI document (/api/v1/openapi.json), with schemathesis: requests
generated from the document — valid and invalid — never get a server error, and every answer
(status code, content type, body) is one the document describes.

The app is called in-process through WSGI, with the identity in ``REMOTE_USER`` as IIS sets it.
Runs are derandomized (the same requests every run) and bounded per operation.
"""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.seeding import seed_demo
from tests.base import VIEWER, FlowdeskTestCase, on_every_backend
from tests.functional.test_no_server_errors import PATH_PARAMETER

IDENTITY = {'REMOTE_USER': VIEWER}
#: What every answer must satisfy. (Whether the API accepts every schema-valid value is not
#: checked: a cursor is any string in the document but only one the API issued is valid, and
#: a flow code must exist.)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
EXAMPLES_PER_OPERATION = 25


@on_every_backend
class ApiSchemaTests(FlowdeskTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        seed_demo(flows=5, responses=300, force=True)
        cls.schema = schemathesis.openapi.from_wsgi('/api/v1/openapi.json', cls.app,
                                                    environ_overrides=IDENTITY)

    @staticmethod
    def empty_tables() -> None:
        """The seeded data is kept for the class (the API only reads)."""

    def operations(self):
        return [result.ok() for result in self.schema.get_all_operations()]

    def test_every_route_of_the_api_is_described(self):
        document = self.client.get('/api/v1/openapi.json').get_json()
        routes = {PATH_PARAMETER.sub(r'{\1}', rule.rule.removeprefix('/api/v1'))
                  for rule in self.app.url_map.iter_rules() if rule.endpoint.startswith('api.')}
        self.assertEqual(set(document['paths']), routes)
        self.assertEqual({operation.path for operation in self.operations()},
                         routes - {'/openapi.json'})   # schemathesis leaves out the document

    def test_generated_requests_get_no_server_error_and_answers_match_the_document(self):
        for operation in self.operations():
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                with self.subTest(operation=operation.label, mode=mode.value):
                    self.check(operation.as_strategy(generation_mode=mode))

    @staticmethod
    def check(strategy):
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
                  database=None, suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def conforms(case):
            case.call_and_validate(checks=CHECKS, environ_overrides=IDENTITY)

        conforms()
