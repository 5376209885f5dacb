"""The receiver's verification snippet, taken from docs/webhooks.md as written there."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

DOCS = Path(__file__).parents[1] / "docs" / "webhooks.md"


def documented_verifier() -> Callable[..., bool]:
    text = DOCS.read_text(encoding="utf-8")
    match = re.search(r"```python\n(.*?)```", text, re.S)
    assert match, "docs/webhooks.md lost its Python snippet"
    namespace: dict[str, object] = {}
    exec(compile(match.group(1), str(DOCS), "exec"), namespace)  # our own docs
    verifier = namespace["verify_refundflow_signature"]
    assert callable(verifier)
    return verifier  # type: ignore[return-value]
