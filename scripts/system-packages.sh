# Sourced by ./test: the Debian packages the suite needs beyond Python's, installed when missing.
#   faketime — tests/test_any_day.py runs the date-pinned tests years ahead of today
set -euo pipefail
_kzgate_missing=()
command -v faketime >/dev/null 2>&1 || _kzgate_missing+=(faketime)
if [ ${#_kzgate_missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages: ${_kzgate_missing[*]} …" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${_kzgate_missing[@]}" >&2
  else
    echo "warning: install ${_kzgate_missing[*]} (apt-get install ${_kzgate_missing[*]});" \
      "the tests that need them fail under CI=true and are skipped otherwise" >&2
  fi
fi
unset _kzgate_missing
