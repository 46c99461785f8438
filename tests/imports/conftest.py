from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _inline_imports(settings: Any, tmp_path: Any) -> None:
    """Web imports run inline in tests (one test below runs the real thread), and
    uploads are kept under the test's own folder."""
    settings.GONGHUI_IMPORT_BACKGROUND = False
    settings.DATA_DIR = tmp_path / "data"
