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
