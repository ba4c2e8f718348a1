"""The README and docs/ hold what they show: every runnable block runs as written, every test, file
and Python name they cite exists, every link between pages leads to a page and a heading, and
docs/index.md maps every page.

Which blocks run is the convention docs/index.md gives writers ("Runnable blocks"): a block fenced
``sh``, ``bash`` or ``python`` runs and must exit 0; a ``console`` block is a transcript whose
``$ `` commands run and print exactly the lines under them (a line ``...`` stands for any lines);
any other fence is shown only. Words after the language: ``no-run`` (shown only), ``needs-data``
(runs where the real data sets are), ``needs-dask`` / ``needs-plot`` / ``needs-sklearn`` (runs
where that extra is installed). A page's blocks run in order in one fresh directory holding ``data/`` (the
repository's), as typed at the root of a clone, with the checkout's ``windowclf`` on PATH.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from support import DASK_EXTRA, DATASETS_EXTRA, PLOT_EXTRA, REPO, SERVE_EXTRA, SPACY_EXTRA, shared_data_dir

DOCS = REPO / "docs"
PAGES = [REPO / "README.md", *sorted(DOCS.rglob("*.md"))]
# pages outside docs/ whose citations are checked too (they are read as documentation)
OTHER_PAGES = [REPO / "data" / "sample" / "README.md"]

RUNNERS = {"sh": "bash", "bash": "bash", "python": "python", "console": "transcript"}
# needs-NAME: the modules that must import for the block to run, and the reason it is skipped without
EXTRAS = {
    "dask": (("distributed",), DASK_EXTRA),
    "plot": (("matplotlib",), PLOT_EXTRA),
    "sklearn": (("sklearn",), "scikit-learn is not installed: pip install '.[test]'"),
    "spacy": (("spacy",), SPACY_EXTRA),
    "serve": (("starlette", "uvicorn"), SERVE_EXTRA),
    "datasets": (("datasets",), DATASETS_EXTRA),
}
# pages whose blocks their own test runs (with what this one cannot give them), not this one
OWN_TESTS = {"docs/integrations.md": "tests/system/test_integrations_doc.py (the service on a free port)"}
FLAGS = {"no-run", "needs-data", *(f"needs-{name}" for name in EXTRAS)}
BLOCK_TIMEOUT = 300  # seconds; blocks that train train the sample corpus for a few epochs


@dataclass
class Block:
    """One fenced block of a page: its language, the words after it, the line of its opening fence
    (1-based) and its text."""

    page: Path
    line: int
    language: str
    flags: list = field(default_factory=list)
    code: str = ""

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"

    @property
    def runs(self) -> bool:
        return self.language in RUNNERS and "no-run" not in self.flags


_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@cache
def page_blocks(page: Path) -> tuple:
    """The fenced blocks of ``page`` in order (a block inside a list item keeps its indentation off)."""
    blocks, lines, i = [], page.read_text(encoding="utf-8").splitlines(), 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        words = opening["info"].split()
        body, i = [], i + 1
        start = i
        while i < len(lines) and not (lines[i].strip().startswith(fence) and not lines[i].strip().strip(fence[0])):
            line = lines[i]
            body.append(line[indent:] if line[:indent].strip() == "" else line.lstrip())
            i += 1
        blocks.append(Block(page, start, words[0] if words else "", words[1:], "\n".join(body) + "\n"))
        i += 1
    return tuple(blocks)


@cache
def prose(page: Path) -> str:
    """The text of ``page`` outside its fenced blocks."""
    text = page.read_text(encoding="utf-8")
    # the indent is blanks of the fence's own line: \s would reach back over blank lines, and pair
    # a fence after a blank line with the next such one, hiding the prose between two blocks
    return re.sub(r"^([ \t]*)(`{3,}|~{3,}).*?^\1\2[ \t]*$", "", text, flags=re.S | re.M)


def unmet_need(block: Block) -> str | None:
    """Why ``block`` cannot run here (a missing data set or extra), or None."""
    for flag in block.flags:
        if flag == "needs-data" and not (shared_data_dir() / "conll2003" / "eng.train").is_file():
            return f"the real data sets are not at {shared_data_dir()} (set WINDOWCLF_DATA)"
        if flag.startswith("needs-") and flag[6:] in EXTRAS:
            modules, reason = EXTRAS[flag[6:]]
            try:
                for module in modules:
                    importlib.import_module(module)
            except ImportError:
                return reason
    return None


def _environment(tmp_path: Path) -> dict:
    """The environment of a page's blocks: the checkout's windowclf first on PATH and importable."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "windowclf"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m windowclf "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONUNBUFFERED"] = "1"  # a transcript's lines in the order they were written
    env["WINDOWCLF_DATA"] = str(shared_data_dir())
    env.pop("COLUMNS", None)
    return env


def _run(block: Block, code: str, cwd: Path, env: dict, **kwargs) -> subprocess.CompletedProcess:
    command = ["bash", "-euo", "pipefail", "-c", code] if RUNNERS[block.language] != "python" else None
    command = command or [sys.executable, "-c", code]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT, **kwargs)


def transcript(block: Block) -> list:
    """The (command, expected output lines) pairs of a ``console`` block."""
    pairs: list = []
    lines = block.code.splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            raise AssertionError(f"{block.where}: a transcript starts each command with '$ ': {lines[i]!r}")
        command = lines[i][2:]
        while command.endswith("\\") and i + 1 < len(lines):
            i += 1
            command += "\n" + lines[i]
        i += 1
        expected = []
        while i < len(lines) and not lines[i].startswith("$ "):
            expected.append(lines[i])
            i += 1
        pairs.append((command, expected))
    return pairs


def matches(expected: list, actual: list) -> bool:
    """Whether ``actual`` lines are ``expected``, where a line ``...`` stands for any lines."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and actual[0] == expected[0] and matches(expected[1:], actual[1:])


def run_block(block: Block, cwd: Path, env: dict) -> None:
    if block.language == "console":
        for command, expected in transcript(block):
            result = subprocess.run(
                ["bash", "-c", command],
                cwd=cwd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=BLOCK_TIMEOUT,
            )
            actual = result.stdout.splitlines()
            assert matches(expected, actual), (
                f"{block.where}: $ {command}\nprinted:\n" + "\n".join(actual) + "\nexpected:\n" + "\n".join(expected)
            )
        return
    result = _run(block, block.code, cwd, env)
    assert result.returncode == 0, (
        f"{block.where} ({block.language}) exited {result.returncode}\n--- stdout\n{result.stdout[-3000:]}"
        f"\n--- stderr\n{result.stderr[-3000:]}"
    )


RUNNABLE_PAGES = [p for p in PAGES if any(b.runs for b in page_blocks(p)) and str(p.relative_to(REPO)) not in OWN_TESTS]


def test_a_page_with_its_own_test_is_run_by_it():
    for page, test in OWN_TESTS.items():
        assert (REPO / page).is_file() and (REPO / test.split()[0]).is_file(), (page, test)


@pytest.mark.slow
@pytest.mark.parametrize("page", RUNNABLE_PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_runnable_block_of_the_page_runs_as_written(page, tmp_path):
    workdir = tmp_path / "clone"
    workdir.mkdir()
    (workdir / "data").symlink_to(REPO / "data", target_is_directory=True)
    env = _environment(tmp_path)
    ran, not_here = 0, []
    for block in page_blocks(page):
        if not block.runs:
            continue
        reason = unmet_need(block)
        if reason:
            not_here.append(f"{block.where}: {reason}")
            continue
        run_block(block, workdir, env)
        ran += 1
    if not_here:
        pytest.skip(f"ran {ran} blocks; not run here: " + "; ".join(not_here))


def test_every_block_says_how_it_runs():
    for page in PAGES:
        for block in page_blocks(page):
            if block.language in RUNNERS:
                unknown = set(block.flags) - FLAGS
                assert not unknown, f"{block.where}: unknown words {sorted(unknown)} (known: {sorted(FLAGS)})"
            if block.language == "console" and block.runs:
                assert transcript(block), f"{block.where}: an empty transcript"


def test_the_readme_quick_start_is_exactly_two_commands():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section_line = text[: text.index("## Quick start\n")].count("\n") + 1
    block = next(b for b in page_blocks(REPO / "README.md") if b.language == "sh" and b.line > section_line)
    commands = [line.split("#")[0].strip() for line in block.code.splitlines() if line.split("#")[0].strip()]
    assert commands == ["scripts/run", "scripts/test"]
    assert "no-run" in block.flags  # scripts/test inside the tests would run the suite again


# ------------------------------------------------------------------------ what the pages cite

_TEST_CITATION = re.compile(r"(?<![\w/.-])(tests/[\w/.-]+\.py)(?:::(\w+))?")
_FILE_CITATION = re.compile(r"(?<![\w/.:-])((?:tests|scripts|windowclf|data|docs)/[\w./-]*\w)")
_PYTHON_NAME = re.compile(r"`(windowclf(?:\.[A-Za-z_]\w*)+)(?:\(\))?`")


def test_every_test_the_pages_cite_exists():
    cited = 0
    for page in PAGES + OTHER_PAGES:
        for path, name in _TEST_CITATION.findall(page.read_text(encoding="utf-8")):
            where = f"{page.relative_to(REPO)} cites {path}{'::' + name if name else ''}"
            assert (REPO / path).is_file(), f"{where}: no such file"
            if name:
                source = (REPO / path).read_text(encoding="utf-8")
                assert re.search(rf"^\s*(?:async\s+)?(?:def|class)\s+{name}\b", source, flags=re.M), (
                    f"{where}: no such test"
                )
            cited += 1
    assert cited, "the guarantees name the tests that hold them"


def test_every_file_the_pages_name_exists():
    for page in PAGES + OTHER_PAGES:
        for path in _FILE_CITATION.findall(prose(page)):
            assert (REPO / path).exists(), f"{page.relative_to(REPO)} names {path}, which does not exist"


def _resolve(dotted: str):
    """The object a dotted name names: the longest importable module prefix, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError as err:
            if err.name and not err.name.startswith("windowclf"):
                pytest.skip(f"{dotted} needs {err.name}")  # an optional extra
            continue
        for attribute in parts[cut:]:
            obj = getattr(obj, attribute)
        return obj
    raise ModuleNotFoundError(dotted)


def test_every_python_name_the_pages_give_exists():
    names = sorted({n for page in PAGES for n in _PYTHON_NAME.findall(prose(page))})
    assert names
    missing = []
    for name in names:
        try:
            _resolve(name)
        except (AttributeError, ModuleNotFoundError):
            missing.append(name)
    assert not missing, f"named in the docs but not in the code: {missing}"


# ------------------------------------------------------------------------ links and the map

_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


@cache
def heading_anchors(page: Path) -> frozenset:
    """The anchors GitHub gives the headings of ``page`` (lowercase, punctuation dropped, spaces
    as hyphens, a repeated one numbered)."""
    anchors: set = set()
    for heading in re.findall(r"^#{1,6}\s+(.*?)\s*#*\s*$", prose(page), flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        candidate, n = slug, 0
        while candidate in anchors:
            n += 1
            candidate = f"{slug}-{n}"
        anchors.add(candidate)
    return frozenset(anchors)


def test_every_link_between_pages_leads_to_a_page_and_a_heading():
    checked = 0
    for page in PAGES:
        text = re.sub(r"`[^`\n]*`", "", prose(page))  # links inside code spans are not links
        for target in _LINK.findall(text):
            if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            assert resolved.exists(), f"{page.relative_to(REPO)} links to {target}: no such file"
            if anchor and resolved.suffix == ".md":
                assert anchor in heading_anchors(resolved), (
                    f"{page.relative_to(REPO)} links to {target}: no such heading in {resolved.name}"
                )
            checked += 1
    assert checked


def test_the_index_maps_every_page_and_the_readme_links_the_index():
    index = DOCS / "index.md"
    linked = {(index.parent / t.partition("#")[0]).resolve() for t in _LINK.findall(prose(index))}
    unmapped = [str(p.relative_to(REPO)) for p in PAGES[1:] if p != index and p.resolve() not in linked]
    assert not unmapped, f"docs/index.md does not link {unmapped}"
    assert "docs/index.md" in (REPO / "README.md").read_text(encoding="utf-8")


# ------------------------------------------------------------------------ the runner itself


def test_a_transcript_line_of_dots_stands_for_any_lines_and_nothing_else_is_loose():
    assert matches(["a", "...", "z"], ["a", "b", "c", "z"])
    assert matches(["a", "...", "z"], ["a", "z"])
    assert matches(["a", "..."], ["a"])
    assert not matches(["a", "...", "z"], ["a", "b"])
    assert not matches(["a", "z"], ["a", "b", "z"])
    assert not matches(["a"], ["a", "b"])
    assert not matches(["a b"], ["a  b"])


def test_blocks_are_read_with_their_language_words_and_first_line(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "Text\n\n```sh needs-data\necho one\n```\n\n- item\n\n  ```python\n  print(2)\n  ```\n\n"
        "```console\n$ windowclf --version \\\n    --help\nsomething\n...\n```\n\n~~~\nplain\n~~~\n",
        encoding="utf-8",
    )
    page_blocks.cache_clear()
    blocks = page_blocks(page)
    assert [(b.language, b.flags, b.code) for b in blocks] == [
        ("sh", ["needs-data"], "echo one\n"),
        ("python", [], "print(2)\n"),
        ("console", [], "$ windowclf --version \\\n    --help\nsomething\n...\n"),
        ("", [], "plain\n"),
    ]
    assert [b.line for b in blocks] == [3, 9, 13, 20]  # the lines of their opening fences
    assert [b.runs for b in blocks] == [True, True, True, False]
    assert transcript(blocks[2]) == [("windowclf --version \\\n    --help", ["something", "..."])]


def test_prose_is_the_text_between_blocks_whatever_blank_lines_and_fences_surround_it(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# Top\n\n```sh\necho one\n```\n\n## Between\n\nSee [a](#top).\n\n```\nbare\n```\n\n"
        "- item\n\n  ```python\n  print(2)\n  ```\n\n## After\n\n~~~text\nx\n~~~\nend\n",
        encoding="utf-8",
    )
    prose.cache_clear()
    text = prose(page)
    for kept in ("# Top", "## Between", "See [a](#top).", "- item", "## After", "end"):
        assert kept in text
    for dropped in ("echo one", "bare", "print(2)", "x\n"):
        assert dropped not in text
    assert heading_anchors(page) == {"top", "between", "after"}
