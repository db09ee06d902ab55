#!/usr/bin/env bash
# Packs what a bare GPU machine (no Node, no Vulkan loader) needs to run this project into .gl/
# (git-ignored): xz-compressed Node and node_modules, and Debian's Vulkan loader plus the GL vendor
# libraries (libglvnd, X11) that NVIDIA's Vulkan driver, libGLX_nvidia.so.0, needs to load: without them
# the loader reports "Could not get 'vkCreateInstance'" and Dawn finds no adapter.
# Then, with the device tool: carry [".gl"], command `bash bench/gpu/run.sh demo tests bench`.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .gl /tmp/amd64/partial
grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo '/.gl/' >> .git/info/exclude
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
apt-get $o update -qq
(cd .gl && apt-get $o download libvulkan1 libglvnd0 libgl1 libglx0 libegl1 libgles2 libopengl0 \
  libx11-6 libx11-data libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0)
tmp=$(mktemp -d)
mkdir -p "$tmp/bin" && cp "$(command -v node)" "$tmp/bin/"
# Only linux-x64 of dawn.node, and none of the type checker, browser driver or source maps.
tar -C "$tmp" -cf - bin -C "$PWD" \
  --exclude='node_modules/webgpu/dist/darwin-*' --exclude='node_modules/webgpu/dist/linux-arm64' \
  --exclude='node_modules/webgpu/dist/win32-*' --exclude='node_modules/typescript' \
  --exclude='node_modules/@typescript' --exclude='node_modules/playwright-core' \
  --exclude='node_modules/lightningcss*' --exclude='node_modules/@types' --exclude='*.map' \
  --exclude='node_modules/@tensorflow/*/dist/*.min.js' --exclude='node_modules/@tensorflow/*/dist/*.es2017*' \
  --exclude='node_modules/@tensorflow/*/dist/*.fesm*' node_modules | xz -T0 -6 > .gl/pack.tar.xz
rm -rf "$tmp"
du -sh .gl
