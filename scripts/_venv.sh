# Sourced by scripts/*: make sure .venv exists and holds this checkout, installed with the extras
# named in WINDOWCLF_EXTRAS (each script names what it needs: none to train and tag, the test extras
# for the tests). Installs again only when pyproject.toml changes or an extra is missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extras="${WINDOWCLF_EXTRAS-}"
python="${PYTHON:-python3}"
if [ ! -x "$root/.venv/bin/python" ]; then
    "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
        echo "windowclf needs Python 3.10 or newer; $python is $("$python" --version 2>&1)" >&2
        exit 1
    }
    "$python" -m venv "$root/.venv"
fi
stamp="$root/.venv/.windowclf-installed"
project="$(cksum < "$root/pyproject.toml")"
installed=""
if [ -f "$stamp" ] && [ "$(head -n 1 "$stamp")" = "$project" ]; then
    installed="$(tail -n 1 "$stamp")"
fi
missing=0
[ -f "$stamp" ] && [ "$(head -n 1 "$stamp")" = "$project" ] || missing=1
for extra in ${extras//,/ }; do
    case ",$installed," in *",$extra,"*) ;; *) missing=1 ;; esac
done
if [ "$missing" = 1 ]; then
    want="$(printf '%s\n' ${installed//,/ } ${extras//,/ } | sort -u | paste -sd, -)"
    "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    # setuptools announces every editable install of a flat layout (its meta path finder) with a
    # warning banner that pip passes on even with --quiet; it says nothing about this checkout
    PYTHONWARNINGS="ignore:Editable installation${PYTHONWARNINGS:+,$PYTHONWARNINGS}" \
        "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root${want:+[$want]}"
    printf '%s\n%s\n' "$project" "$want" > "$stamp"
fi
export PATH="$root/.venv/bin:$PATH"
