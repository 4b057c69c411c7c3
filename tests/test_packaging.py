"""What a `pip install aekit` user gets beside the code: the licence text, the type marker, and an
sdist that holds the test suite it ships (probe 64 packaging #4-#6)."""

from __future__ import annotations

from importlib.metadata import distribution

from .conftest import REPO


def test_the_installed_distribution_names_its_licence_and_carries_its_text():
    metadata = distribution("aekit").metadata
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert (REPO / "LICENSE").read_text().startswith("MIT License")


def test_type_checkers_read_aekits_annotations():
    """PEP 561: without py.typed, mypy reads an installed aekit as Any ("missing library stubs or
    py.typed marker")."""
    assert (REPO / "aekit" / "py.typed").is_file()
    files = distribution("aekit").files or []
    assert any(f.name == "py.typed" for f in files) or _editable()


def test_the_sdist_takes_the_whole_test_suite_or_none_of_it():
    """setuptools' default rule took tests/test*.py alone (17 files), without the conftest.py,
    badinput.py and sub-folders they import: a suite that could not be collected."""
    rules = (REPO / "MANIFEST.in").read_text().split("\n")
    assert (
        "graft tests" in rules
        and "include LICENSE README.md CONTRIBUTING.md Makefile mkdocs.yml" in rules
    )


def _editable() -> bool:
    """An editable install lists no package files: the checkout is the package."""
    return any(f.name.startswith("__editable__") for f in distribution("aekit").files or [])
