#!/usr/bin/env bash
# Installs the Debian packages deploysim needs, only those missing; safe to run again.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  catch2 libboost-dev libeigen3-dev libbenchmark-dev libfmt-dev libsimgrid-dev
  libyaml-cpp-dev libcli11-dev nlohmann-json3-dev
  pybind11-dev python3-pybind11 python3-numpy python3-pandas python3-yaml python3-tqdm python3-pytest
  python3-matplotlib python3-distributed python3-nbclient python3-nbformat python3-ipykernel
  chromium
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "bootstrap: installing ${missing[*]}" >&2
if [[ $(id -u) -ne 0 ]]; then
  echo "bootstrap: missing packages and not root; run: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
