#!/usr/bin/env bash
# The browser tests drive Debian's chromium through playwright-core; no browser is ever
# downloaded by npm. Installs the package when it is missing, with a Chinese font so
# zh-CN screenshots show text and an emoji font so the thread's reactions show as emoji
# (CI and developers run as root; elsewhere run it with sudo).
set -euo pipefail
CHROMIUM="${WEFT_CHROMIUM:-/usr/bin/chromium}"
missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-wqy-microhei)
fc-list 2>/dev/null | grep -qi emoji || missing+=(fonts-noto-color-emoji)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "installing Debian's ${missing[*]} for the browser tests"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
test -x "$CHROMIUM"
