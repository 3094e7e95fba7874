"""JSON for the log formats: a document nested too deeply for the parser is a `ValueError`, like
any other damaged JSON, so formats reject it with the reason instead of crashing."""

from __future__ import annotations

import json
from typing import Any


def loads(raw: bytes | str) -> Any:
    """`json.loads`, with too deep a nesting reported as a `ValueError`."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("nested too deeply") from None
