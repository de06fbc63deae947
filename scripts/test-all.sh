#!/usr/bin/env bash
# Installs everything the tests need (Debian packages + the Python test extras) and runs the
# whole suite. The README's test command and .ci/run both call exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(
  python3-venv python3-dev gcc                       # tuibill's own venv; pyscard compiles
  pcscd vsmartcard-vpcd libpcsclite-dev pcsc-tools   # PC/SC daemon + virtual reader (cards)
  socat                                              # serial lines between processes (TLA)
  postgresql                                         # PostgreSQL server (database tests)
  dovecot-pop3d dovecot-imapd                        # real POP3/IMAP servers (mail fetch)
  tmux                                               # the whole app as a person sees it
  chromium                                           # tuibill serve, driven in a real browser
  fonts-liberation                                   # bordereaux PDF: accents and the € sign
)

missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "Installation des paquets système : ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The test dependencies in tuibill's own virtual environment (never the system Python's).
bash scripts/install.sh test
export PATH="$PWD/.venv/bin:$PATH"
python -m ruff check src tests bench
# The layers of docs/architecture.md (contracts in pyproject.toml), every import counted.
lint-imports
python -m pytest -q -rs -p no:cacheprovider -p no:benchmark -n 2 "$@"
