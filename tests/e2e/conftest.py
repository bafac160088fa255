import pytest

from tests.e2e.servers import Stack


@pytest.fixture(scope="session")
def stack(trained_model, tmp_path_factory):
    """The real action server and Rasa server, started once for the session."""
    s = Stack(tmp_path_factory.mktemp("stack"), trained_model).start()
    yield s
    s.stop()
