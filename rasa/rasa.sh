#!/usr/bin/env bash
# Rasa for Chatcart, in an environment of its own: Rasa 3.6 needs Python 3.8-3.10 and pins
# libraries Chatcart has outgrown, so it runs as a separate service spoken to over HTTP.
#
#   rasa/rasa.sh env     create the environment (once: about 70 s and 2.7 GB)
#   rasa/rasa.sh train   export Chatcart's NLU data into rasa/data and train rasa/models
#                        (Rasa skips training when data and config are unchanged)
#   rasa/rasa.sh serve   env, train, then serve /model/parse on RASA_HOST:RASA_PORT
#
# Then run Chatcart with RASA_URL=http://127.0.0.1:5005.
# RASA_PYTHON picks the interpreter; otherwise python3.10 on PATH if it runs, then the
# newest 3.10 in pyenv's versions folder (selected or not).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
RASA_VERSION=3.6.21
RASA_VENV="${RASA_VENV:-$ROOT/.rasa-venv}"
RASA_HOST="${RASA_HOST:-127.0.0.1}"
RASA_PORT="${RASA_PORT:-5005}"
CHATCART="${CHATCART:-$ROOT/.venv/bin/chatcart}"
export RASA_TELEMETRY_ENABLED=false
# Rasa's pinned libraries warn about themselves at length; its own log stays.
export PYTHONWARNINGS=ignore SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2

# A candidate counts only once it has run: wherever pyenv is, its shim for python3.10 is on
# PATH, and it fails ("python3.10: command not found") when a 3.10 is installed but not
# the one selected. That one is then found in pyenv's versions folder.
runs_for_rasa() {
    "$1" -c 'import sys; sys.exit(not (3, 8) <= sys.version_info[:2] <= (3, 10))' \
        >/dev/null 2>&1
}

find_python() {
    local candidate root
    if [ -n "${RASA_PYTHON:-}" ]; then
        if runs_for_rasa "$RASA_PYTHON"; then echo "$RASA_PYTHON"; return 0; fi
        echo "RASA_PYTHON=$RASA_PYTHON does not run as a Python 3.8-3.10." >&2
        return 1
    fi
    if candidate="$(command -v python3.10)" && runs_for_rasa "$candidate"; then
        echo "$candidate"
        return 0
    fi
    root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
    while IFS= read -r candidate; do
        if runs_for_rasa "$candidate"; then echo "$candidate"; return 0; fi
    done < <(ls -d "$root"/versions/3.10.*/bin/python 2>/dev/null | sort -rV)
    return 1
}

make_env() {
    if [ -x "$RASA_VENV/bin/rasa" ] &&
       "$RASA_VENV/bin/python" -c "import importlib.metadata as m, sys; \
sys.exit(m.version('rasa') != '$RASA_VERSION')" 2>/dev/null; then
        return 0
    fi
    local python
    if ! python="$(find_python)"; then
        echo "No Python 3.10 for Rasa: install one (pyenv install 3.10) or set RASA_PYTHON." >&2
        return 3
    fi
    echo "Creating the Rasa environment in $RASA_VENV with $python (about 70 s, 2.7 GB)..."
    rm -rf "$RASA_VENV"
    "$python" -m venv "$RASA_VENV"
    "$RASA_VENV/bin/pip" install --quiet --upgrade pip
    "$RASA_VENV/bin/pip" install --quiet "rasa==$RASA_VERSION"
}

train() {
    "$CHATCART" nlu export-rasa "$HERE/data"
    cd "$HERE"   # Rasa keeps its cache in ./.rasa
    "$RASA_VENV/bin/rasa" train nlu --config config.yml --domain domain.yml \
        --nlu data --out models --fixed-model-name chatcart
}

# One step a line: bash ignores `set -e` inside a function run as `f && g`.
case "${1:-}" in
    env) make_env ;;
    train)
        make_env
        train
        ;;
    serve)
        make_env
        train
        echo "Rasa on http://$RASA_HOST:$RASA_PORT (about 30 s to load): RASA_URL=http://$RASA_HOST:$RASA_PORT"
        exec "$RASA_VENV/bin/rasa" run --enable-api -i "$RASA_HOST" -p "$RASA_PORT" \
            --model models
        ;;
    *) echo "usage: $0 env|train|serve" >&2; exit 2 ;;
esac
