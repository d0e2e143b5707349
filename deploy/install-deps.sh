#!/usr/bin/env bash
# Installs what Vigil needs to build and run on Debian 12 (only what is missing).
set -euo pipefail
# The third line is for the dashboard: Chart.js, served by `vigil dashboard` at /chart.js, and the
# headless browser its test drives (tests/browser/dashboard_browser_test.py, Debian's python3).
# The last: promtool and the Prometheus server that tests/http_endpoints_test.cc checks and
# scrapes `vigil run --http`'s /metrics with.
# python3-yaml: deploy/check.sh parses the deployment files with it (Debian's /usr/bin/python3).
packages=(build-essential cmake ninja-build pkg-config librdkafka-dev libboost-dev
          libprotobuf-dev protobuf-compiler librocksdb-dev doctest-dev
          libjs-chart.js chromium chromium-driver python3-selenium
          prometheus python3-yaml)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
