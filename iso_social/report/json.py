"""The versioned JSON document for CI (see schemas/check-result.schema.json)."""

from __future__ import annotations

import json
from typing import ClassVar

from iso_social.evidence.models import RecordedRun
from iso_social.report.base import ReportOptions


class JsonReporter:
    """The run document with its integrity block, pretty-printed."""

    name: ClassVar[str] = "json"
    suffix: ClassVar[str] = ".json"

    def render(self, run: RecordedRun, options: ReportOptions) -> bytes:
        """Serialise the run document."""
        return (json.dumps(run.output_document(), indent=2, ensure_ascii=False) + "\n").encode()
