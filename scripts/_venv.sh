# Sourced by scripts/*: make sure .venv exists and holds this checkout, installed with the
# extras named in WINDOWCLF_EXTRAS (default "test,plot,dask": the tests cover plotting and Dask too).
# Re-installs only when pyproject.toml or the extras change.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extras="${WINDOWCLF_EXTRAS:-test,plot,dask}"
python="${PYTHON:-python3}"
if [ ! -x "$root/.venv/bin/python" ]; then
    "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
        echo "windowclf needs Python 3.10 or newer; $python is $("$python" --version 2>&1)" >&2
        exit 1
    }
    "$python" -m venv "$root/.venv"
fi
stamp="$root/.venv/.windowclf-installed"
want="$(cat "$root/pyproject.toml" | cksum) [$extras]"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root[$extras]"
    printf '%s' "$want" > "$stamp"
fi
export PATH="$root/.venv/bin:$PATH"
