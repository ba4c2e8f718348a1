"""docs/integrations.md's examples run as written, in order, in a fresh directory: its python blocks
as the README's are run, its sh blocks with bash (the service on a free port of 127.0.0.1)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest
from support import DATASETS_EXTRA, REPO, SERVE_EXTRA, SPACY_EXTRA

SECTIONS = ("spaCy", "HTTP service", "Hugging Face datasets")


def blocks(section: str) -> list:
    """(language, code) of the section's python and sh blocks, in order."""
    text = (REPO / "docs" / "integrations.md").read_text(encoding="utf-8")
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(python|sh)(?: [^\n]*)?\n(.*?)```", body, flags=re.S)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_the_integrations_page_runs_as_written(tmp_path, monkeypatch, capsys):
    pytest.importorskip("spacy", reason=SPACY_EXTRA)
    pytest.importorskip("starlette", reason=SERVE_EXTRA)
    pytest.importorskip("uvicorn", reason=SERVE_EXTRA)
    pytest.importorskip("datasets", reason=DATASETS_EXTRA)
    (tmp_path / "data").symlink_to(REPO / "data", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    env["PATH"] = f"{os.path.dirname(sys.executable)}:{env['PATH']}"  # the tests' venv has the windowclf command
    outputs = []
    for section in SECTIONS:
        found = blocks(section)
        assert found, f"docs/integrations.md's {section} section has no example"
        for language, code in found:
            if language == "python":
                exec(compile(code, "docs/integrations.md", "exec"), {})
                outputs.append(capsys.readouterr().out)
                continue
            script = code.replace("8000", str(free_port()))
            result = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", script],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert result.returncode == 0, result.stderr
            outputs.append(result.stdout)
    spacy_out, service_out, hub_out, cli_out = outputs
    assert re.search(r"^Peter Blackburn PER 0\.\d+$", spacy_out, flags=re.M), spacy_out
    answers = service_out.strip().splitlines()
    assert answers[0].startswith('{"entities":[{"sentence":0,') and '"char_start":' in answers[0]
    assert answers[1].startswith('{"results":[{"entities":') and answers[2].startswith('{"results":[{"tags":')
    assert hub_out.strip().endswith("True")
    assert "processed" in cli_out and "FB1" in cli_out
