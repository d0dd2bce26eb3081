# Sourced by ./test: the Debian packages the suite drives, installed when missing (as root).
#   faketime — tests/test_any_day.py runs the date-pinned tests years ahead of today
#   chromium — the console's browser test (Playwright cannot download a browser here)
#   xmlsec1  — the README's check of an evidence bundle's hop signatures
set -euo pipefail
_kzgate_missing=()
for _kzgate_tool in faketime chromium xmlsec1; do
  command -v "$_kzgate_tool" >/dev/null 2>&1 || _kzgate_missing+=("$_kzgate_tool")
done
if [ ${#_kzgate_missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages: ${_kzgate_missing[*]} …" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${_kzgate_missing[@]}" >&2
  else
    echo "warning: install ${_kzgate_missing[*]} (apt-get install ${_kzgate_missing[*]});" \
      "the tests that need them will fail" >&2
  fi
fi
unset _kzgate_missing _kzgate_tool
