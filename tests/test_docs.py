"""Comments cite the Extend API facts inside the repository: every ``docs/extend-api.md#x``
reference in the package names a section that exists, and no comment cites an outside spec."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
API_DOC = ROOT / "docs" / "extend-api.md"


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lowercase, punctuation dropped, spaces to hyphens."""
    heads = re.findall(r"^#{1,6} (.+)$", markdown, re.M)
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in heads}


def test_every_api_reference_points_at_a_section() -> None:
    anchors = _anchors(API_DOC.read_text(encoding="utf-8"))
    cited: dict[str, set[str]] = {}
    outside = []
    for path in sorted((ROOT / "extend_frames").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for first, more in re.findall(r"docs/extend-api\.md#([\w-]+)((?:, #[\w-]+)*)", text):
            for anchor in [first, *re.findall(r"#([\w-]+)", more)]:
                cited.setdefault(anchor, set()).add(path.name)
        if re.search(r"SPEC(\.md)? ?(§|section)", text):
            outside.append(path.name)
    assert outside == [], f"cite docs/extend-api.md, not the outside spec: {outside}"
    assert len(cited) >= 15
    missing = {a: sorted(f) for a, f in cited.items() if a not in anchors}
    assert missing == {}, f"no such section in docs/extend-api.md: {missing}"
