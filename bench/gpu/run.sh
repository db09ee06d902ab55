#!/usr/bin/env bash
# Runs on the lent GPU machine over the files bench/gpu/pack.sh put in .gl/: unpacks the Vulkan loader,
# Node and node_modules, then any of: demo, tests, bench (logs also in $OUT).
set -u
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
mkdir -p /tmp/n && tar -xJf .gl/pack.tar.xz -C /tmp/n
export PATH=/tmp/n/bin:$PATH
ln -sfn /tmp/n/node_modules node_modules
nvidia=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$nvidia" ] && export VK_DRIVER_FILES=$nvidia
node scripts/embed-shaders.mjs
for step in "$@"; do
  case "$step" in
    demo) node_modules/.bin/tsx src/cli/demo.ts 2>&1 | tee "$OUT/demo.log" ;;
    tests) node_modules/.bin/vitest run --exclude test/browser.test.ts 2>&1 | tee "$OUT/tests.log" ;;
    bench) node_modules/.bin/tsx bench/matmul.ts 2>&1 | tee "$OUT/bench-matmul.log" ;;
    *) echo "run.sh: unknown step '$step' (demo, tests, bench)" >&2 ;;
  esac
done
