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
# The console's browser test drives Debian's chromium (Playwright cannot download a browser here).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium for the console's browser test …" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
  else
    echo "chromium is missing: the console's browser test will fail (apt-get install chromium)" >&2
  fi
fi
