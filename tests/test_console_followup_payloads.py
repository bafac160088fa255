"""The customer panel's wire shapes (channels/console/customer_payloads.py) against their schemas in
static/agent/openapi.json, field by field, as tests/test_openapi_payloads.py does for the others."""

import pytest

from channels.console import customer_payloads
from tests.test_openapi_payloads import CONSOLE_DOC, drift


@pytest.mark.parametrize("name", sorted(customer_payloads.SCHEMAS))
def test_customer_payloads_match_their_schemas(name):
    assert name in CONSOLE_DOC["components"]["schemas"]
    assert drift(CONSOLE_DOC, customer_payloads.SCHEMAS[name], {"$ref": f"#/components/schemas/{name}"}, name) == []
