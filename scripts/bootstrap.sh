# Sourced by ./run and ./test: make .venv hold exactly what pyproject.toml pins.
# Re-installs only when pyproject.toml changed since the last install.
set -euo pipefail
PY=${KZGATE_PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setting up .venv (first run) …" >&2
  "$PY" -m venv .venv
fi
stamp=".venv/.kzgate-installed"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing dependencies into .venv …" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]" >&2
  echo "$want" > "$stamp"
fi
# Debian tools the tests drive: chromium (the console's browser test; Playwright cannot download
# a browser here) and xmlsec1 (the README's check of an evidence bundle's hop signatures).
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v xmlsec1 >/dev/null 2>&1 || missing="$missing xmlsec1"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing$missing for the tests …" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2
  else
    echo "missing:$missing — the tests that need them will fail (apt-get install$missing)" >&2
  fi
fi
