#!/usr/bin/env bash
# System packages the test suite needs besides npm's: redis-server (the Upstash rate-limit store
# runs against a real Redis behind tools/upstash-adapter), oathtool (an independent TOTP
# generator the MFA tests check against) and prometheus (its promtool checks the /metrics exposition
# and the alert rules in ops/) and chromium (headless, driven by playwright-core in the browser
# tests: the console and the SDK in a page). Installs them with apt-get when missing and allowed.
# Never prompts: sudo runs with -n, so `npm test` cannot hang on a password prompt (nor in CI
# without a terminal); without root or passwordless sudo it says what to install by hand.
set -euo pipefail
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v oathtool >/dev/null 2>&1 || missing+=(oathtool)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
by_hand="please install by hand: ${missing[*]} (on Debian or Ubuntu: sudo apt-get install ${missing[*]})"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing system packages, and no apt-get here; ${by_hand}" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "missing system packages, and not root without sudo; ${by_hand}" >&2
    exit 1
  fi
  sudo=(sudo -n)
fi
echo "installing system packages for the tests: ${missing[*]}"
if ! "${sudo[@]}" apt-get update -qq ||
  ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; then
  echo "could not install them${sudo:+ without a password (sudo -n)}; ${by_hand}" >&2
  exit 1
fi
