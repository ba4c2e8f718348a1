"""docs/reference/ is what scripts/make_reference makes from the code now: a changed option, help
text or docstring without the pages regenerated fails here."""

from __future__ import annotations

import difflib
import importlib.util
import subprocess
import sys

import pytest
from support import REPO

SCRIPT = REPO / "scripts" / "make_reference"


@pytest.fixture(scope="module")
def reference():
    spec = importlib.util.spec_from_file_location("_reference", REPO / "scripts" / "_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _drift(path, expected: str) -> str:
    current = path.read_text(encoding="utf-8") if path.is_file() else ""
    diff = difflib.unified_diff(
        current.splitlines(), expected.splitlines(), "committed", "from the code now", lineterm="", n=1
    )
    return "\n".join(list(diff)[:40])


def test_the_command_line_reference_is_every_commands_help_now(reference):
    expected = reference.cli_reference()
    assert reference.CLI_PAGE.read_text(encoding="utf-8") == expected, (
        f"{reference.CLI_PAGE.relative_to(REPO)} is out of date: run scripts/make_reference\n"
        + _drift(reference.CLI_PAGE, expected)
    )


def test_the_python_reference_is_every_public_docstring_now(reference):
    expected = reference.python_reference()
    assert reference.PYTHON_PAGE.read_text(encoding="utf-8") == expected, (
        f"{reference.PYTHON_PAGE.relative_to(REPO)} is out of date: run scripts/make_reference\n"
        + _drift(reference.PYTHON_PAGE, expected)
    )


def test_the_reference_names_every_command_and_every_public_name(reference):
    import windowclf
    from windowclf.cli.main import main

    cli, python = reference.cli_reference(), reference.python_reference()
    for command in main.commands:
        assert f"\n## windowclf {command}\n" in cli
    for name in windowclf.__all__:
        assert f"\n### {name}\n" in python


def test_a_changed_docstring_is_seen(reference, monkeypatch):
    from windowclf.models.tagger import WindowTagger

    before = reference.python_reference()
    monkeypatch.setattr(WindowTagger.fit, "__doc__", WindowTagger.fit.__doc__ + "\nOne more line.\n")
    assert reference.python_reference() != before


@pytest.mark.slow
def test_check_exits_1_on_a_stale_page_and_writing_makes_it_current(tmp_path, reference, monkeypatch):
    page = tmp_path / "cli.md"
    page.write_text("stale\n", encoding="utf-8")
    monkeypatch.setattr(reference, "CLI_PAGE", page)
    monkeypatch.setattr(reference, "PYTHON_PAGE", tmp_path / "python.md")
    assert reference.main(["--check"]) == 1
    assert page.read_text(encoding="utf-8") == "stale\n"  # --check writes nothing
    assert reference.main([]) == 0
    assert reference.main(["--check"]) == 0


@pytest.mark.slow
def test_the_script_runs_as_a_command():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
