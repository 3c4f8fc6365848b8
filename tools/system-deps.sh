#!/usr/bin/env bash
# System packages the test suite needs besides npm's: redis-server (the Upstash rate-limit store
# runs against a real Redis behind tools/upstash-adapter) and oathtool (an independent TOTP
# generator the MFA tests check against). Installs them with apt-get when missing and allowed.
set -euo pipefail
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v oathtool >/dev/null 2>&1 || missing+=(oathtool)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing system packages for the tests: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "please install: ${missing[*]} (e.g. apt-get install ${missing[*]})" >&2; exit 1
  fi
fi
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
