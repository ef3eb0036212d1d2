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


def _table_rows(page: str) -> dict[str, str]:
    """A docs page's table rows by their first cell (backticks dropped)."""
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    return {r.split("|")[1].strip().replace("`", ""): r for r in rows}


def test_results_guide_lists_every_status_the_code_can_produce() -> None:
    from extend_frames._columns import STATUS_VALUES

    row = _table_rows("guides/results.md")["status"]
    listed = re.findall(r"`([A-Z_]+)`", row.split("(rows are never")[0])
    assert listed == list(STATUS_VALUES)


def test_results_guide_lists_every_result_column() -> None:
    from extend_frames._columns import RESULT_COLUMNS

    rows = _table_rows("guides/results.md")
    documented = {c.strip() for first in rows for c in first.split(",")}
    assert [c for c in RESULT_COLUMNS if c not in documented] == []


def test_results_guide_lists_every_client_side_failure_reason() -> None:
    from extend_frames.jobs import _spec

    reasons = {
        value
        for name, value in vars(_spec).items()
        if name.isupper() and isinstance(value, str) and value == name
    }
    rows = _table_rows("guides/results.md")
    assert {"INVALID_INPUT", "SUBMIT_FAILED"} <= reasons
    assert sorted(r for r in reasons if r not in rows) == []


def test_cli_guide_lists_every_exit_code() -> None:
    from extend_frames.cli._exit import EXIT_CODES

    rows = _table_rows("guides/cli.md")
    assert sorted(int(k) for k in rows if k.isdigit()) == sorted(EXIT_CODES)


def test_docs_state_the_processor_version_rule_the_code_follows() -> None:
    page = " ".join((ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8").split())
    assert "newest published version, or the draft when none is published" in page
    assert "An unpublished processor is not pinned" in page
    results = (ROOT / "docs" / "guides" / "results.md").read_text(encoding="utf-8")
    assert "out.to_pandas()" in results
    assert "out.to_arrow()" in results


def test_readme_is_short_and_links_into_the_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    assert "bash scripts/demo.sh" in readme
    assert "bash scripts/test.sh" in readme
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / link).is_file(), link
