#!/usr/bin/env bash
# Installs what this project needs and is missing, then returns: Debian packages through apt-get (when
# run as root; otherwise it prints the command to run), and the npm packages of package-lock.json.
#   libvulkan1             the Vulkan loader that dawn.node (npm 'webgpu') loads
#   chromium               SwiftShader's Vulkan driver (WebGPU without a GPU) and the browser tests
#   dataset-fashion-mnist  the real dataset of the training jobs
#   python3-torch          only with SETUP_BENCH=1: the PyTorch CPU peer of the benchmarks
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libvulkan1 chromium dataset-fashion-mnist)
[ "${SETUP_BENCH:-0}" = 1 ] && packages+=(python3-torch)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "setup: missing ${missing[*]}, and this is not a Debian/Ubuntu system: install the equivalents by hand" >&2
    exit 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: run  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}  and try again" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci only when node_modules is absent or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent shaders
echo "setup: ready"
