#!/usr/bin/env bash
# Packs what a bare GPU machine (no Node, no Vulkan loader, no dataset) needs into .gl/ (git-ignored):
#   .gl/debs/           Debian's Vulkan loader and the GL vendor libraries (libglvnd, X11) that NVIDIA's
#                       Vulkan driver, libGLX_nvidia.so.0, needs to load: without them the loader reports
#                       "Could not get 'vkCreateInstance'" and Dawn finds no adapter
#   .gl/pack.tar.xz     Node and node_modules without TensorFlow.js
#   .gl/tfjs.tar.xz     TensorFlow.js (the benchmarks' peer)
#   .gl/fashion-mnist/  the dataset files (for `train`)
# A device-tool call carries at most 64 MiB: carry .gl/debs and .gl/pack.tar.xz, plus .gl/tfjs.tar.xz for
# `bench`/`tests` or .gl/fashion-mnist for `train` (see run.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .gl/debs /tmp/amd64/partial
grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo '/.gl/' >> .git/info/exclude
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
apt-get $o update -qq
(cd .gl/debs && apt-get $o download libvulkan1 libglvnd0 libgl1 libglx0 libegl1 libgles2 libopengl0 \
  libx11-6 libx11-data libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0)
tmp=$(mktemp -d)
mkdir -p "$tmp/bin" && cp "$(command -v node)" "$tmp/bin/"
# Only linux-x64 of dawn.node, and none of the type checker, browser driver or source maps.
tar -C "$tmp" -cf - bin -C "$PWD" \
  --exclude='node_modules/webgpu/dist/darwin-*' --exclude='node_modules/webgpu/dist/linux-arm64' \
  --exclude='node_modules/webgpu/dist/win32-*' --exclude='node_modules/typescript' \
  --exclude='node_modules/@typescript' --exclude='node_modules/playwright-core' \
  --exclude='node_modules/lightningcss*' --exclude='node_modules/@types' --exclude='*.map' \
  --exclude='node_modules/@tensorflow' node_modules | xz -T0 -6 > .gl/pack.tar.xz
tar -cf - --exclude='*.map' --exclude='*.min.js' --exclude='*.es2017*' --exclude='*.fesm*' \
  node_modules/@tensorflow | xz -T0 -6 > .gl/tfjs.tar.xz
rm -rf "$tmp"
mkdir -p .gl/fashion-mnist && cp /usr/share/datasets/fashion-mnist/*.gz .gl/fashion-mnist/
du -sh .gl/*
