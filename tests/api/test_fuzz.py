"""Property-based fuzzing of every endpoint from the OpenAPI schema (schemathesis): no input yields a 5xx.

Both generation modes run: valid inputs (nullable fields get nulls) and invalid ones (wrong types, nulls where the
schema forbids them, out-of-range numbers)."""

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from pactkb.api.app import create_app
from pactkb.corpus.generate import SAMPLE_DIR
from pactkb.index.kb import KnowledgeBase
from pactkb.settings import Settings

_data = Path(tempfile.mkdtemp(prefix="pactkb-fuzz-")) / "data"
_settings = Settings(data=_data, model="fake:64", parse_workers=0)
KnowledgeBase(_settings).indexer.ingest([SAMPLE_DIR])
app = create_app(_settings, load_in_background=False)
app.state.pactkb.load()  # ready before the first generated request
ADMIN = app.state.pactkb.keys.create("fuzz-admin", "admin", "confidential")[0]
schema = schemathesis.openapi.from_asgi("/openapi.json", app)
schema.config.generation.update(modes=list(GenerationMode))


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_causes_a_server_error_anonymous(case):
    case.call_and_validate(checks=[not_a_server_error])


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_causes_a_server_error_admin(case):
    case.call_and_validate(headers={"Authorization": f"Bearer {ADMIN}"}, checks=[not_a_server_error])
