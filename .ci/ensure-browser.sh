#!/usr/bin/env bash
# Make sure the browser tests' tools are here: Debian's Chromium (driven by Playwright's Python
# package, never `playwright install`), and Node.js with npm (node --test, and the React test app's
# packages from npm). Installs what is missing from Debian's packages.
set -euo pipefail

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
  echo "browser tests: $(chromium --version 2>/dev/null | head -n 1), node $(node --version), npm $(npm --version)"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "browser tests need ${missing[*]}: apt-get install ${missing[*]} (as root)" >&2
  exit 1
fi
echo "browser tests: installing ${missing[*]} from Debian's packages (a few minutes)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "browser tests: $(chromium --version 2>/dev/null | head -n 1), node $(node --version), npm $(npm --version)"
