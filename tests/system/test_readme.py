"""The README's examples run as written."""

import os
import re

import pytest
from support import REPO


def python_blocks(section: str) -> list:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, flags=re.S)


@pytest.mark.slow
def test_library_example_runs(tmp_path, monkeypatch, capsys):
    blocks = python_blocks("Library")
    assert blocks, "the README's Library section has no python example"
    (tmp_path / "data").symlink_to(REPO / "data", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "processed" in out and "FB1" in out  # the conlleval report was printed
    assert os.path.exists(tmp_path / "sample-model.npz")


def test_quick_start_is_exactly_two_commands():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quick start\n", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```sh\n(.*?)```", quick, flags=re.S)[0]
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]
    assert commands == ["scripts/run", "scripts/test"]


def test_every_test_the_readme_cites_exists():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    cited = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", text)
    assert cited
    for path, name in cited:
        source = (REPO / path).read_text(encoding="utf-8")
        if name:
            assert re.search(rf"^def {name}\(", source, flags=re.M), f"{path}::{name}"


@pytest.mark.slow
def test_first_tagger_section_runs_in_a_fresh_directory():
    import subprocess
    import sys

    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Your first tagger\n", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```sh\n(.*?)```", section, flags=re.S)[0]
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    # the tests' interpreter is the one in .venv (scripts/test); a clone used otherwise runs its own
    venv_bin = os.path.dirname(sys.executable)
    script = block.replace('export PATH="$PWD/.venv/bin:$PATH"', f'export PATH="{venv_bin}:$PATH"')
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "FB1" in result.stdout and "[" in result.stdout  # the report, and an inline entity
    assert '"confidence"' in result.stdout
