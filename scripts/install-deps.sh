#!/usr/bin/env bash
# Installs the Debian 12 packages pipeline needs to build, test and benchmark. Idempotent; skips apt when all
# are present. Run as root or with sudo available.
set -euo pipefail
packages=(build-essential cmake ninja-build pkg-config python3 curl jq nginx-light
  libcli11-dev libyaml-cpp-dev libcurl4-openssl-dev libspdlog-dev doctest-dev nlohmann-json3-dev
  zlib1g-dev libzstd-dev libdeflate-dev zstd libssl-dev libsimdjson-dev libcpp-httplib-dev openssl nodejs npm python3-yaml dpkg-dev groff-base
  python3-botocore)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs/npm may come from elsewhere than Debian (e.g. preinstalled): accept working commands.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs/}"); missing=("${missing[@]/npm/}")
fi
read -r -a missing <<<"${missing[*]}"
if ((${#missing[@]} == 0)); then
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
echo "installing Debian packages: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
