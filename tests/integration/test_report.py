"""`campaign-sim report`: the PDF reads back with the summary's numbers; reruns are byte-identical."""

from __future__ import annotations

import json

import pytest
from pypdf import PdfReader

from campaign_sim.reports.render import PAGE_TITLES, _interval
from tests.integration.cli_runs import copied_run, invoke


@pytest.fixture(scope="module")
def trained_run(trained_run_template, tmp_path_factory):
    return copied_run(trained_run_template, tmp_path_factory.mktemp("report"))


def test_report_pages_and_executive_numbers_match_summary(trained_run):
    result = invoke("report", trained_run, "-q")
    assert result.exit_code == 0, result.output
    folder = trained_run / "report"
    summary = json.loads((folder / "summary.json").read_text())
    reader = PdfReader(folder / "report.pdf")
    assert len(reader.pages) == 7  # no pilot planned: no pilot page (PAGE_TITLES[7])
    for number, (page, title) in enumerate(zip(reader.pages, PAGE_TITLES[:7], strict=True), start=1):
        assert f"{number}. {title}" in page.extract_text()
    assert len(list(folder.glob("*.png"))) == 7  # one PNG per page
    first = " ".join(reader.pages[0].extract_text().split())
    head = summary["headline"]
    assert f"Verdict: {summary['verdict']['verdict']}" in first
    assert f"Recommended policy: {summary['recommended']}" in first
    assert _interval(head["profit"]) in first and _interval(head["baseline_profit"]) in first
    assert _interval(head["difference"], signed=True) in first
    assert f"{head['roi']:,.2f}" in first and f"{head['unsubscribes']:.4f}" in first
    assert summary["verdict"]["verdict"] in ("GO", "NO-GO") and summary["verdict"]["reasons"]


def test_rerun_with_the_same_seed_is_byte_identical(trained_run):
    assert invoke("report", trained_run, "-q").exit_code == 0
    first = (trained_run / "report" / "report.pdf").read_bytes()
    pngs = {p.name: p.read_bytes() for p in (trained_run / "report").glob("*.png")}
    assert invoke("report", trained_run, "-q").exit_code == 0
    assert (trained_run / "report" / "report.pdf").read_bytes() == first
    assert {p.name: p.read_bytes() for p in (trained_run / "report").glob("*.png")} == pngs


def test_intervals_keep_the_digits_that_resolve_them():
    assert _interval({"mean": 0.0123, "low": 0.0101, "high": 0.0145}) == "0.0123 [0.0101, 0.0145]"
    assert _interval({"mean": 12.5, "low": 11.0, "high": 14.0}, signed=True) == "+12.500 [+11.000, +14.000]"


def test_report_of_a_run_without_training_exits_2(tmp_path):
    (tmp_path / "empty").mkdir()
    result = invoke("report", tmp_path / "empty")
    assert result.exit_code == 2 and "campaign-sim train" in result.output
    assert len(result.output.strip().splitlines()) == 1
