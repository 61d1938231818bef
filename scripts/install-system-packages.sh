#!/usr/bin/env bash
# Install the Debian packages the test suite talks to for real: Dovecot (IMAP), Chromium and its
# driver (web UI tests), SpamAssassin (the benchmark's peer). Skips what is already there.
set -euo pipefail
want=(dovecot-imapd chromium chromium-driver spamassassin)
missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && { echo "system packages: all present"; exit 0; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "system packages: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian package starts a system-wide Dovecot on the standard ports; the tests run their own.
$SUDO systemctl disable --now dovecot >/dev/null 2>&1 || $SUDO service dovecot stop >/dev/null 2>&1 || true
