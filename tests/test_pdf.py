"""PDF reports (issue 17): WeasyPrint renders the HTML page; page 1 is checked as a picture and as text."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import Runner

pytestmark = pytest.mark.slow  # WeasyPrint lays out every page, poppler draws and reads it back: seconds a test

EXAMPLE = Path(__file__).resolve().parent.parent / "ledgers" / "examples" / "procurement"


def _need(tool: str) -> None:
    """Skip where poppler's tools are missing; in CI they must be there (.ci/run installs poppler-utils)."""
    if shutil.which(tool) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is missing in CI: .ci/run must install it (apt-get install poppler-utils)")
        pytest.skip(f"{tool} is not installed: apt-get install poppler-utils")


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Runner:
    folder = tmp_path_factory.mktemp("pdf") / "procurement"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns(".cache"))
    return Runner(folder)


@pytest.mark.parametrize(
    ("command", "figure"),
    [("summary", "€48,700,000.00"), ("statement Northland", "€30,000,000.00"), ("earmarks", "€23,999,965.00")],
)
def test_first_page(example, command, figure, tmp_path):
    """Page 1 is an A4 picture with ink on it; its text holds the fund's name, the report and a known figure."""
    _need("pdftoppm")
    _need("pdftotext")
    pdf = tmp_path / "report.pdf"
    result = example(f"report {command} --pdf {pdf}")
    assert result.stderr == f"Wrote {pdf}.\n" and pdf.read_bytes().startswith(b"%PDF-")
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(tmp_path / "page")], check=True)  # fmt: skip
    from PIL import Image  # matplotlib's own dependency

    with Image.open(tmp_path / "page.png") as picture:
        width, height = picture.size
        grey = picture.convert("L")
        inked = sum(grey.histogram()[:200])  # pixels darker than light grey
    assert abs(height / width - 297 / 210) < 0.01, (width, height)  # A4, portrait
    assert inked > 0.01 * width * height, "page 1 is blank"
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout  # fmt: skip
    assert "Example procurement fund (fictional)" in text
    assert figure in text
    assert "fundledger verify --seal" in text


def test_pdf_by_extension(example, tmp_path):
    example(f"report members -o {tmp_path / 'members.pdf'}")
    assert (tmp_path / "members.pdf").read_bytes().startswith(b"%PDF-")
