#!/usr/bin/env bash
# The web page in real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright from
# PyPI): tests/browser/page_test.py against live servers of BINARY, which also writes the
# screenshots the README shows (docs/screenshots/). Any failure fails the run.
#
#   .ci/browser.sh BINARY
#
# Tools: Playwright in a Python venv and axe-core from npm, in $BROWSER_TOOLS (default
# /tmp/fastcall-browser), installed when missing. Chromium must be installed (.ci/run does).
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${1:?usage: .ci/browser.sh BINARY}
TOOLS="${BROWSER_TOOLS:-/tmp/fastcall-browser}"
PLAYWRIGHT_VERSION=1.49.1
AXE_VERSION=4.10.2

step() { printf '\n==> %s\n' "$*"; }

[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "browser.sh: no Chromium at ${CHROMIUM:-/usr/bin/chromium}" >&2; exit 1; }
# (Not `pip show | grep -q`: grep quits at its match, and pipefail then fails the pipe.)
installed() {
    "$TOOLS/venv/bin/python" -c 'import sys
from importlib.metadata import version
sys.exit(version("playwright") != sys.argv[1])' "$PLAYWRIGHT_VERSION" 2>/dev/null
}
if ! installed; then
    step "installing playwright $PLAYWRIGHT_VERSION into $TOOLS/venv"
    python3 -m venv "$TOOLS/venv"
    "$TOOLS/venv/bin/pip" install --quiet "playwright==$PLAYWRIGHT_VERSION"
fi
axe="$TOOLS/node_modules/axe-core/axe.min.js"
if ! grep -q "\"version\": \"$AXE_VERSION\"" "$TOOLS/node_modules/axe-core/package.json" 2>/dev/null; then
    step "installing axe-core $AXE_VERSION into $TOOLS"
    (cd "$TOOLS" && npm install --silent --no-audit --no-fund --no-save "axe-core@$AXE_VERSION")
fi

step "the web page in $("${CHROMIUM:-/usr/bin/chromium}" --version)"
"$TOOLS/venv/bin/python" tests/browser/page_test.py "$binary" "$axe" docs/screenshots
