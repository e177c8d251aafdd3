#!/usr/bin/env bash
# scripts/venv.sh PYTHON DIR — create a virtualenv, installing python3-venv with apt when
# it is missing and we may (root with apt-get); otherwise say exactly what to install.
set -euo pipefail
python=${1:-python3}
dir=${2:-.venv}
if ! command -v "$python" >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "venv: installing python3 with apt" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >&2
  else
    echo "venv: $python not found. Install it: sudo apt-get install -y python3 python3-venv" >&2
    exit 1
  fi
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "venv: Onsite needs Python 3.11 or newer ($python is $("$python" -V 2>&1))." >&2
  exit 1
fi
if ! "$python" -m venv "$dir" 2>/dev/null; then
  rm -rf "$dir"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    ver=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    echo "venv: installing python${ver}-venv with apt" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python${ver}-venv" >&2 || \
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
    "$python" -m venv "$dir"
  else
    echo "venv: '$python -m venv' failed. Install it: sudo apt-get install -y python3-venv" >&2
    exit 1
  fi
fi
"$dir/bin/pip" install --disable-pip-version-check -q --upgrade pip >&2 || true
