#!/usr/bin/env bash
# Installs tuibill into its own virtual environment (.venv beside this checkout), with the
# python3 found first on the PATH — the distribution's own included: Debian 12 and Ubuntu
# refuse `pip install` into the system Python (PEP 668, « externally-managed-environment »).
# Extra arguments name pip extras: `bash scripts/install.sh test` installs `.[test]`.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

apt_install() {
  echo "Installation des paquets système : $*" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! command -v python3 >/dev/null 2>&1; then
  apt_install python3 python3-venv
fi
# Debian ships venv without ensurepip until python3-venv is installed.
if ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
  apt_install python3-venv
fi

VENV=".venv"
if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c "" >/dev/null 2>&1; then
  rm -rf "$VENV"  # a venv left by another Python that no longer runs
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"

extras=""
if [ "$#" -gt 0 ]; then
  extras="[$(IFS=,; echo "$*")]"
fi
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".$extras"
echo "tuibill installé dans $(pwd)/$VENV" >&2
