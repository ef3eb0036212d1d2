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


def _readme_row(column: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith(f"| `{column}` |")]
    assert len(rows) == 1, column
    return rows[0]


def test_readme_status_row_lists_every_status_the_code_can_produce() -> None:
    from extend_frames._columns import STATUS_VALUES

    listed = re.findall(r"`([A-Z_]+)`", _readme_row("status").split("(rows are never")[0])
    assert listed == list(STATUS_VALUES)


def test_readme_states_the_processor_version_rule_the_code_follows() -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "newest published version, or the draft when none is published" in readme
    assert "An unpublished processor is not pinned" in readme
    assert "out.to_pandas()" in readme
    assert "out.to_arrow()" in readme
