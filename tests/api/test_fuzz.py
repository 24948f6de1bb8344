"""Property-based fuzzing of every endpoint from the OpenAPI schema (schemathesis): no input yields a 5xx.

Both generation modes run: valid inputs (nullable fields get nulls) and invalid ones (wrong types, nulls where the
schema forbids them, out-of-range numbers). Collecting the tests reads only the OpenAPI document (no data directory);
the knowledge base and the service they call are built by a fixture, once for this module, when the tests run."""

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from pactkb.api.app import create_app, openapi_document
from pactkb.corpus.generate import SAMPLE_DIR
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings

schema = schemathesis.openapi.from_dict(openapi_document())
schema.config.generation.update(modes=list(GenerationMode))


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The service over the sample corpus, ready before the first generated request."""
    config = Settings(data=tmp_path_factory.mktemp("fuzz") / "data", model="fake:64", parse_workers=0)
    KnowledgeBase(config).indexer.ingest([SAMPLE_DIR])
    app = create_app(config, load_in_background=False)
    app.state.pactkb.load()
    yield app
    app.state.pactkb.close()


@pytest.fixture(scope="module")
def admin_key(fuzz_app: FastAPI) -> str:
    """An admin key with full clearance."""
    return fuzz_app.state.pactkb.keys.create("fuzz-admin", "admin", "confidential")[0]


def test_the_fuzzed_schema_is_the_one_the_service_serves(fuzz_app):
    assert openapi_document() == fuzz_app.openapi()


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_causes_a_server_error_anonymous(case, fuzz_app):
    case.call_and_validate(app=fuzz_app, checks=[not_a_server_error])


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_causes_a_server_error_admin(case, fuzz_app, admin_key):
    case.call_and_validate(app=fuzz_app, headers={"Authorization": f"Bearer {admin_key}"}, checks=[not_a_server_error])
