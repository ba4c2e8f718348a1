"""Regenerate the golden ``*.report`` files with the real conlleval Perl script (see HOW.md).

Usage (from the repository root)::

    python3 tests/data/conlleval/make_reports.py /path/to/conlleval.pl [SHARED_DATA_DIR]

Standard library only: the test suite imports :func:`noisy_testa_text` from here so that
the large case's input is rebuilt at test time, without Perl, exactly as it was made.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPT_VERSION = "# version:   2004-01-26"
TWIN_SUFFIX = ".as-iob.txt"

NOISY_NAME = "eng_testa_noisy"
NOISY_LINES = 2000
NOISY_SEED = 20040126
_NOISE_TYPES = ("PER", "ORG", "LOC", "MISC")


def _noisy_tag(gold: str, rng: random.Random) -> str:
    # Only rng.random() is used: Python guarantees its sequence for a given int seed.
    r = rng.random()
    if r < 0.04:
        return "O"
    if r < 0.08:
        return "I-" + _NOISE_TYPES[int(rng.random() * len(_NOISE_TYPES))]
    if r < 0.10:
        return "B-" + _NOISE_TYPES[int(rng.random() * len(_NOISE_TYPES))]
    return gold


def noisy_testa_text(testa_path, n_lines: int = NOISY_LINES, seed: int = NOISY_SEED) -> str:
    """conlleval input from the start of eng.testa: its columns plus a noisy prediction.

    Reads up to the first sentence end at or after line ``n_lines``; every token line gets
    a fifth column, the gold tag replaced with probability 0.1 (``O`` 4%, a random
    ``I-TYPE`` 4%, a random ``B-TYPE`` 2%); ``-DOCSTART-`` lines are predicted ``O``.
    """
    rng = random.Random(seed)
    out = []
    with open(testa_path, encoding="ascii") as lines:
        for number, line in enumerate(lines, 1):
            line = line.rstrip("\n")
            if not line:
                out.append("")
                if number >= n_lines:
                    break
                continue
            fields = line.split(" ")
            pred = "O" if fields[0] == "-DOCSTART-" else _noisy_tag(fields[-1], rng)
            out.append(line + " " + pred)
    return "\n".join(out) + "\n"


def _run_perl(script: Path, text: bytes) -> bytes:
    return subprocess.run(["perl", str(script)], input=text, capture_output=True, check=True).stdout


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    script = Path(argv[1])
    if SCRIPT_VERSION not in script.read_text(encoding="latin-1"):
        print(f"{script} is not conlleval version 2004-01-26", file=sys.stderr)
        return 1
    for source in sorted(HERE.glob("*.txt")):
        if source.name.endswith(TWIN_SUFFIX):
            continue
        twin = source.with_name(source.stem + TWIN_SUFFIX)
        perl_input = twin if twin.exists() else source
        report = _run_perl(script, perl_input.read_bytes())
        source.with_suffix(".report").write_bytes(report)
        print(f"{source.stem}.report  <- perl {script.name} < {perl_input.name}")
    if len(argv) == 3:
        text = noisy_testa_text(Path(argv[2]) / "conll2003" / "eng.testa")
        (HERE / f"{NOISY_NAME}.report").write_bytes(_run_perl(script, text.encode("ascii")))
        print(f"{NOISY_NAME}.report  <- perl {script.name} < noisy_testa_text(eng.testa)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
