"""Text scanners on hostile input: time must grow with the text's length, not its square.

Customer and agent messages are untrusted and may hold up to a million characters (the
ingest's limit). Each scanner a check runs over message text (the personal-data detectors,
the masking of report excerpts, the hand-off's request finder, the remedy and escalation word
lists) is timed on texts built to make a careless pattern backtrack, at a quarter of the limit
and at the limit. Four times the text should take about four times as long: the growth is
printed next to the target (at most 6x, linear within noise), and the time at a million
characters next to its own (under 10 s: one hostile message must not stall a check).

Run: python benchmarks/hostile_text.py
"""

from __future__ import annotations

import time
from collections.abc import Callable

from iso_social.controls._detectors import DETECTORS, detect, mask_personal_data, masked_start
from iso_social.controls.escalation_path import _words
from iso_social.controls.public_to_private_handoff import asks_for_data
from iso_social.controls.sensitive_data_exposure import REMEDY

LIMIT = 1_000_000  # canonical.MAX_TEXT_CHARS
TARGET_GROWTH = 6.0
TARGET_SECONDS = 10.0

# each a unit repeated up to the length: what makes one kind of pattern work hard
HOSTILE = {
    "'a.' runs after an @": ("@x ", "a."),
    "'a.a.a@' runs": ("", "a." * 50 + "@"),
    "spaced digits": ("", "1 "),
    "dashed digits": ("", "1-"),
    "eight digits": ("", "12345678 "),
    "phone numbers": ("", "+34 612 345 678 "),
    "card numbers": ("", "card 4111 1111 1111 1111, "),
    "street words": ("", "calle "),
    "IBAN-like": ("ES12 ", "AB12 "),
    "request verbs": ("", "please send "),
    "HTML": ("", "<a href='https://x.example/a?b=c'>DM</a> "),
}
ESCALATION = _words(("supervisor", "manager", "complaint", "reclamación", "hoja de reclamaciones"))
assert ESCALATION is not None  # noqa: S101 (a pattern for any words given)

SCANNERS: dict[str, Callable[[str], object]] = {
    **{
        f"detect {name}": (lambda text, name=name: detect(text, [name]))  # type: ignore[misc]
        for name in DETECTORS
    },
    "mask_personal_data": mask_personal_data,
    "report excerpt": lambda text: masked_start(text, 161),  # reads only what it shows
    "asks_for_data": asks_for_data.__wrapped__,  # not its cache
    "remedy words": REMEDY.search,
    "escalation words": ESCALATION.search,
}


def text_of(head: str, unit: str, length: int) -> str:
    """`unit` repeated after `head` to `length` characters, ending in a postal code."""
    body = head + unit * ((length - len(head)) // len(unit) + 1)
    return body[: length - 6] + " 28013"


def seconds(scan: Callable[[str], object], text: str) -> float:
    """One scan's time."""
    start = time.perf_counter()
    scan(text)
    return time.perf_counter() - start


def main() -> None:
    """Time every scanner on every hostile text; print the slowest input of each."""
    print(f"text scanners on hostile input, {LIMIT // 4:,} and {LIMIT:,} characters")
    worst_all = 0.0
    for label, scan in SCANNERS.items():
        worst = (0.0, 0.0, "")
        for name, (head, unit) in HOSTILE.items():
            quarter = seconds(scan, text_of(head, unit, LIMIT // 4))
            full = seconds(scan, text_of(head, unit, LIMIT))
            if full > worst[1]:
                worst = (quarter, full, name)
        quarter, full, name = worst
        growth = full / quarter if quarter > 0.005 else 1.0  # below that: noise, no growth to see
        met = growth <= TARGET_GROWTH and full < TARGET_SECONDS
        print(
            f"  {label:22s} worst: {name:22s} {full:6.2f} s at 1M ({growth:4.1f}x for 4x)"
            f"   target <= {TARGET_GROWTH:.0f}x, < {TARGET_SECONDS:.0f} s   "
            f"{'ok' if met else 'NOT MET'}"
        )
        worst_all = max(worst_all, full)
    print(f"  slowest scan of one message: {worst_all:.2f} s")


if __name__ == "__main__":
    main()
