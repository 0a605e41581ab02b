#!/usr/bin/env bash
# The browser tests drive Debian's chromium through playwright-core; no browser is ever
# downloaded by npm. Installs the package when it is missing, with a Chinese font so
# zh-CN screenshots show text (CI and developers run as root; elsewhere run it with sudo).
# No emoji font: Debian's Noto Color Emoji also covers digits and spaces, and fontconfig then
# draws "2 4 0" wide in every screenshot; reactions show as boxes in headless screenshots.
set -euo pipefail
CHROMIUM="${WEFT_CHROMIUM:-/usr/bin/chromium}"
missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-wqy-microhei)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "installing Debian's ${missing[*]} for the browser tests"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
test -x "$CHROMIUM"
