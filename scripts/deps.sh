#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs, with apt-get, every Debian package that building, testing and
# demonstrating vigia needs and that is not installed yet. Idempotent: when
# everything is there it does nothing and needs no network.
set -euo pipefail

packages=(
  # build
  gcc make meson ninja-build pkg-config
  libc-ares-dev libcmocka-dev
  # end-to-end tests: network namespaces, firewall rules, pytest
  python3 python3-pytest iproute2 nftables procps
  # fuzzing the parsers (tests/fuzz)
  clang libclang-rt-14-dev
)
# Extra package lists (one package per line, # comments) that other parts
# of the project add, e.g. scripts/deps.d/check.txt.
dir=$(cd "$(dirname "$0")" && pwd)
if [ -d "$dir/deps.d" ]; then
  for f in "$dir"/deps.d/*.txt; do
    [ -e "$f" ] || continue
    while read -r line; do
      line=${line%%#*}
      for p in $line; do packages+=("$p"); done
    done < "$f"
  done
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: need root to install packages (run as root, or install: ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Servers the tests start by hand (nginx, sshd, dnsmasq, mariadb) must not be
# started as system services by their packages: tell invoke-rc.d "no" for
# the length of the install (unless the machine already has a policy).
policy=/usr/sbin/policy-rc.d
own_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && own_policy=true
fi
trap '$own_policy && rm -f "$policy"' EXIT
apt-get update -qq || apt-get update
apt-get install -y -qq --no-install-recommends "${missing[@]}"
