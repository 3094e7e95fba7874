"""iso-social: ISO 9001-style quality controls and audit evidence for customer service.

The public API is small and stable; everything else may change between minor versions.
Heavy modules load on first use, so `import iso_social` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from iso_social._version import __version__

if TYPE_CHECKING:
    from iso_social.pipeline import ingest_logs, render_report, run_check
    from iso_social.policy import load_policy

__all__ = ["__version__", "ingest_logs", "load_policy", "render_report", "run_check"]


def __getattr__(name: str) -> Any:
    if name in ("ingest_logs", "run_check", "render_report"):
        from iso_social import pipeline

        return getattr(pipeline, name)
    if name == "load_policy":
        from iso_social.policy import load_policy

        return load_policy
    raise AttributeError(f"module 'iso_social' has no attribute {name!r}")
