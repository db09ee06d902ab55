#!/usr/bin/env bash
# Runs on the lent GPU machine over what bench/gpu/pack.sh put in .gl/: unpacks the Vulkan loader, Node
# and node_modules (and TF.js, the dataset, where carried), then any of the steps given:
#   tests | bench | bench-conv2d | bench-train-step | sweep | sweep-quick | train [trainer options...]
# (logs also in $OUT). sweep: bench/gpu/sweep.ts, figures in $OUT/sweep.json and the winners table with
# this adapter's entry in $OUT/winners.json (copy it over src/ops/tuning/winners.json, or merge the
# entry with `npm run bench:sweep -- --from sweep.json --update-table`); it needs no TF.js.
set -u
for f in .gl/debs/*.deb; do dpkg -x "$f" /; done
ldconfig
mkdir -p /tmp/n && tar -xJf .gl/pack.tar.xz -C /tmp/n
[ -f .gl/tfjs.tar.xz ] && tar -xJf .gl/tfjs.tar.xz -C /tmp/n
[ -d .gl/fashion-mnist ] && export FASHION_MNIST_DIR=$PWD/.gl/fashion-mnist
export PATH=/tmp/n/bin:$PATH
ln -sfn /tmp/n/node_modules node_modules
nvidia=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$nvidia" ] && export VK_DRIVER_FILES=$nvidia
node scripts/embed-shaders.mjs
while [ $# -gt 0 ]; do
  step=$1
  shift
  case "$step" in
    tests) node_modules/.bin/vitest run --exclude test/browser.test.ts 2>&1 | tee "$OUT/tests.log" ;;
    bench) node_modules/.bin/tsx bench/matmul.ts 2>&1 | tee "$OUT/bench-matmul.log" ;;
    bench-conv2d) node_modules/.bin/tsx bench/conv2d.ts 2>&1 | tee "$OUT/bench-conv2d.log" ;;
    bench-train-step) node_modules/.bin/tsx bench/train-step.ts 2>&1 | tee "$OUT/bench-train-step.log" ;;
    sweep | sweep-quick)
      quick=$([ "$step" = sweep-quick ] && echo --quick)
      node_modules/.bin/tsx bench/gpu/sweep.ts $quick --out "$OUT/$step.json" --update-table 2>&1 | tee "$OUT/$step.log"
      cp src/ops/tuning/winners.json "$OUT/winners.json" ;;
    train) node_modules/.bin/tsx src/cli/train.ts --out "$OUT/run" "$@" 2>&1 | tee "$OUT/train.log"; shift $# ;;
    *) echo "run.sh: unknown step '$step' (tests, bench, bench-conv2d, bench-train-step, sweep, sweep-quick, train ...)" >&2 ;;
  esac
done
