#!/usr/bin/env bash
# Make sure `promtool` (Debian's prometheus package) is there: the alert rules' unit tests run it.
set -euo pipefail
if command -v promtool >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "promtool: missing; install Debian's prometheus package (apt-get install prometheus)" >&2
  exit 1
fi
echo "promtool: installing Debian's prometheus package"
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
command -v promtool >/dev/null || { echo "promtool: still missing after the install" >&2; exit 1; }
