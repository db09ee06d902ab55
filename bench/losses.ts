// Contrastive-loss benchmark: forward + backward time of the fused SupCon and BCL (src/losses/) next to
// (a) the matmuls they contain — S = X·Xᵀ (and X·Pᵀ for BCL) forward plus their autograd backward — and
// (b) the same loss composed from generic ops (matmul, eq, exp, sum, log, ... with autograd).
//
//   npm run bench:losses               # B ∈ {256, 1024}, V = 2, D = 128, K ∈ {10, 100}
//   tsx bench/losses.ts --quick        # B = 256 and 1024, K = 10 only, short budgets
//   tsx bench/losses.ts --full         # adds B = 4096 (one rep a case)
//
// Report columns: 'ours' = fused loss ms, 'peer' = the loss composed from generic ops ms (NOT TF.js),
// 'ratio' = ours / peer (lower is better); each row also carries 'matmul' = ms of the matmuls alone and
// 'vsMatmul' = ours / matmul (the target: ≤ 1.3). Each rep records forward and backward and waits
// for the GPU queue. Values of the fused and composed losses are compared before timing.
import {
  affine, arange, bcl, concat, div, eq, exp, init, log, matmul, max, maximum, mean, mul, noGrad, ones,
  reshape, scale, sub, sum, supCon, tensor, type Tensor,
} from '../src/node.js';
import { benchHeader, flag, formatTable, printReport, longTailLabels, lossStep, row, timeIt, unitRows, type ResultRow } from './common.js';

const quick = flag('quick');
const SIZES = flag('full') ? [256, 1024, 4096] : [256, 1024];
const CLASSES = quick ? [10] : [10, 100];
const V = 2;
const D = 128;
const TEMP = 0.1;

/**
 * SupCon (SupContrast's SupConLoss) from generic ops, rows sample-major; `rowLabels` [R] f32 holds each
 * row's label.
 */
function composedSupCon(f: Tensor, rowLabels: Tensor): Tensor {
  const r = rowLabels.shape[0];
  const x = reshape(f, [r, D]);
  const s = scale(matmul(x, x, { transB: true }), 1 / TEMP);
  const logits = sub(s, noGrad(() => max(s, 1, true)));
  const idx = arange(0, r);
  const notSelf = affine(eq(reshape(idx, [r, 1]), reshape(idx, [1, r])), -1, 1);
  const pos = mul(eq(reshape(rowLabels, [r, 1]), reshape(rowLabels, [1, r])), notSelf);
  const logp = sub(logits, log(sum(mul(exp(logits), notSelf), 1, true)));
  const mlpp = div(sum(mul(pos, logp), 1), maximum(sum(pos, 1), ones([r])));
  return mean(scale(mlpp, -TEMP / 0.07));
}

/** BCL (BCL's BalSCL) from generic ops: prototypes appended, class-averaged denominator. */
function composedBcl(f: Tensor, rowLabels: Tensor, p: Tensor): Tensor {
  const r = rowLabels.shape[0];
  const k = p.shape[0];
  const m = r + k;
  const x = reshape(f, [r, D]);
  const s = scale(matmul(x, concat([x, p], 0), { transB: true }), 1 / TEMP);
  const logits = sub(s, noGrad(() => max(s, 1, true)));
  const colLabels = concat([rowLabels, arange(0, k)], 0);
  const notSelf = affine(eq(reshape(arange(0, r), [r, 1]), reshape(arange(0, m), [1, m])), -1, 1);
  const pos = mul(eq(reshape(rowLabels, [r, 1]), reshape(colLabels, [1, m])), notSelf);
  const count = sum(eq(reshape(colLabels, [m, 1]), reshape(colLabels, [1, m])), 0, true);
  const den = sum(div(mul(exp(logits), notSelf), sub(count, pos)), 1, true);
  const logp = sub(logits, log(den));
  return mean(scale(div(sum(mul(pos, logp), 1), sum(pos, 1)), -1));
}

interface Inputs {
  f: Tensor;
  p: Tensor;
  labels: Tensor;
  rowLabels: Tensor;
}

function makeInputs(b: number, k: number): Inputs {
  // Long-tailed labels: class c with probability ∝ 0.9^c.
  const y = Array.from(longTailLabels(b, k, 0.9, 7));
  return {
    f: tensor(unitRows(b * V, D, 1), [b, V, D]).keep().requireGrad(),
    p: tensor(unitRows(k, D, 2), [k, D]).keep().requireGrad(),
    labels: tensor(Int32Array.from(y), [b], 'i32').keep(),
    rowLabels: tensor(Float32Array.from(y.flatMap((c) => Array(V).fill(c))), [b * V]).keep(),
  };
}

/** One forward + backward of `loss` on `inp`, waited for; its value. */
function step(inp: Inputs, loss: () => Tensor): Promise<number> {
  return lossStep([inp.f, inp.p], loss);
}

/** The matmuls inside the loss: X·Xᵀ (and X·Pᵀ) forward and backward, reduced to a scalar by sum. */
function matmulsOnly(inp: Inputs, withProtos: boolean): () => Tensor {
  return () => {
    const x = reshape(inp.f, [inp.f.shape[0] * V, D]);
    const g = sum(matmul(x, x, { transB: true }));
    return withProtos ? sum(concat([reshape(g, [1]), reshape(sum(matmul(x, inp.p, { transB: true })), [1])], 0)) : g;
  };
}

async function main(): Promise<void> {
  const e = await init();
  await benchHeader('contrastive losses bench', e, [
    `forward + backward, V = ${V}, D = ${D}, T = ${TEMP}; 'peer' = the same loss composed from generic ops (not TF.js)`,
  ]);
  const results: ResultRow[] = [];
  const detail: (string | number)[][] = [['case', 'fused ms', 'matmuls ms', 'composed ms', 'fused/matmuls', 'fused/composed', 'value rel. diff']];
  const budget = { minMs: quick ? 300 : 1500, minReps: 3, maxReps: 30, warmup: 1 };
  for (const b of SIZES) {
    for (const k of CLASSES) {
      const inp = makeInputs(b, k);
      try {
        const losses = [
          { name: `supCon B=${b} K=${k}`, fused: () => supCon(inp.f, inp.labels, { temperature: TEMP }), composed: () => composedSupCon(inp.f, inp.rowLabels), protos: false },
          { name: `bcl B=${b} K=${k}`, fused: () => bcl(inp.f, inp.labels, inp.p, { temperature: TEMP }), composed: () => composedBcl(inp.f, inp.rowLabels, inp.p), protos: true },
        ];
        // B = 4096 on a CPU adapter: one rep a case (the value check warms the pipelines up), and the composed
        // loss (minutes a rep there) timed by its value-check run.
        const big = b >= 4096;
        const caseBudget = big ? { minMs: 0, minReps: 1, maxReps: 1, warmup: 0 } : budget;
        for (const c of losses) {
          const a = await step(inp, c.fused);
          const t0 = performance.now();
          const z = await step(inp, c.composed);
          const composedOnce = performance.now() - t0;
          const diff = Math.abs(a - z) / Math.abs(z);
          const fused = await timeIt(() => step(inp, c.fused).then(() => undefined), caseBudget);
          const mm = await timeIt(() => step(inp, matmulsOnly(inp, c.protos)).then(() => undefined), caseBudget);
          const comp = big ? { bestMs: composedOnce } : await timeIt(() => step(inp, c.composed).then(() => undefined), budget);
          console.log(`  ${c.name}: fused ${fused.bestMs.toFixed(0)} ms, matmuls ${mm.bestMs.toFixed(0)} ms, composed ${comp.bestMs.toFixed(0)} ms`);
          // printReport carries fields beyond ResultRow's into the JSON line.
          const extra = { matmul: mm.bestMs, vsMatmul: fused.bestMs / mm.bestMs };
          results.push(Object.assign(row(c.name, fused.bestMs, comp.bestMs, 'ms'), extra));
          detail.push([c.name, fused.bestMs, mm.bestMs, comp.bestMs, fused.bestMs / mm.bestMs, fused.bestMs / comp.bestMs, diff.toExponential(1)]);
        }
      } finally {
        for (const t of [inp.f, inp.p, inp.labels, inp.rowLabels]) t.dispose();
      }
    }
  }
  console.log(formatTable(detail));
  console.log(`target (issue): fused ≤ 1.3 × its matmuls; 'peer' below = composed from generic ops, ratio = fused / composed`);
  printReport('losses', e.describeAdapter(), results);
}

await main();
