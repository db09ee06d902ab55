// Reb-SupCon benchmark (issue 6): the Sinkhorn kernel and the prototype module, and the rebalanced
// supervised contrastive loss on the MoCo queue, each next to the matmul it contains and a peer.
//
//   npm run bench:sinkhorn            # Sinkhorn B = 256 (K = 3000), prototype losses, rebSupCon Q = 8192, 65536
//   tsx bench/sinkhorn.ts --quick     # short budgets, Q = 8192 only
//   tsx bench/sinkhorn.ts --full      # adds Sinkhorn at B = 4096
//
// Cases and columns ('ours' and 'peer' in ms, ratio = ours / peer, lower is better):
//  - sinkhorn B×K: our kernel (3 iterations, ε = 0.05) vs SwAV's loop written in TensorFlow.js on the same
//    GPUDevice (exp, sum, div: 2 + 4n tensor ops), both from given scores; 'matmul' = S = z·Cᵀ [B, D]×[D, K].
//  - prototypes B×K: prototypeLoss (2 Sinkhorns, swapped prediction, aggregation, separation) forward +
//    backward vs 'matmul' = its matmuls z·Cᵀ, zk·Cᵀ, C·Cᵀ forward + backward; no peer (null).
//  - rebSupCon B=256 Q: fused rebalanced loss forward + backward (weights ω given) vs the same loss composed
//    from our generic ops (peer), and 'matmul' = q·[q;k]ᵀ and q·queueᵀ forward + backward. The issue's
//    measure is 'vsMatmul' = ours / matmul.
// Values of fused and composed losses (and of the two Sinkhorns) are compared before timing.
import {
  add, affine, concat, div, eq, exp, init, l2Normalize, log, matmul, max, maximum, mean, mul, noGrad, ones,
  prototypeLoss, rebSupCon, reshape, scale, scope, sinkhorn, sub, sum, tensor, type Tensor,
} from '../src/node.js';
import { benchHeader, finish, flag, formatTable, longTailLabels, lossStep, printReport, randomData, row, timeIt, unitRows, type PeerTF, type ResultRow } from './common.js';

const quick = flag('quick');
const D = 128;
const B = 256;
const K = 3000;
const QUEUES = quick ? [8192] : [8192, 65536];
const SINKHORN_BATCHES = flag('full') ? [256, 4096] : [256];
const TEMP = 0.2;
const EPS = 0.05;
const ITERS = 3;
const CLASSES = 10;

/** SwAV's `distributed_sinkhorn` (one device) in TF.js ops; returns Q [B, K]. */
function tfSinkhorn(peer: PeerTF, scores: import('@tensorflow/tfjs-core').Tensor2D): import('@tensorflow/tfjs-core').Tensor2D {
  const { tf } = peer;
  return tf.tidy(() => {
    const [b, k] = scores.shape;
    let q = tf.transpose(tf.exp(tf.div(scores, EPS))) as import('@tensorflow/tfjs-core').Tensor2D;
    q = tf.div(q, tf.sum(q));
    for (let it = 0; it < ITERS; it++) {
      q = tf.div(tf.div(q, tf.sum(q, 1, true)), k);
      q = tf.div(tf.div(q, tf.sum(q, 0, true)), b);
    }
    return tf.transpose(tf.mul(q, b));
  });
}

/**
 * rebSupCon (PaCo layout, docs/paper-vs-code.md REB-1) from generic ops on F = [q; k; queue] (row-major,
 * anchors first).
 */
function composedReb(q: Tensor, k: Tensor, y: Tensor, qk: Tensor, qy: Tensor, w: Tensor): Tensor {
  const b = q.shape[0];
  const zq = l2Normalize(q);
  const f = concat([zq, l2Normalize(k), qk], 0);
  const m = f.shape[0];
  const s = scale(matmul(zq, f, { transB: true }), 1 / TEMP);
  const logits = sub(s, noGrad(() => max(s, 1, true)));
  const colLabels = concat([y, y, qy], 0);
  const idx = (n: number) => tensor(Float32Array.from({ length: n }, (_, i) => i), [n]);
  const notSelf = affine(eq(reshape(idx(b), [b, 1]), reshape(idx(m), [1, m])), -1, 1);
  const pos = mul(eq(reshape(y, [b, 1]), reshape(colLabels, [1, m])), notSelf);
  const logp = sub(logits, log(sum(mul(exp(logits), notSelf), 1, true)));
  const mlpp = div(sum(mul(pos, logp), 1), maximum(sum(pos, 1), ones([b])));
  return mean(mul(scale(mlpp, -1), w));
}

async function main(): Promise<void> {
  const e = await init();
  const peer = await benchHeader('Reb-SupCon bench: Sinkhorn, prototype module, rebalanced loss on the queue', e, [
    `D = ${D}, ε = ${EPS}, ${ITERS} Sinkhorn iterations, τ = ${TEMP}; unit ms, lower is better; see the header of bench/sinkhorn.ts for each case's peer`,
  ]);
  const results: ResultRow[] = [];
  const detail: (string | number)[][] = [['case', 'ours ms', 'matmul ms', 'peer ms', 'ours/matmul', 'ours/peer', 'check']];
  const budget = { minMs: quick ? 300 : 1500, minReps: 3, maxReps: 30, warmup: 1 };

  // Sinkhorn from given scores, and the prototype module, at B×K.
  for (const b of SINKHORN_BATCHES) {
    const z = tensor(unitRows(b, D, 1), [b, D]).keep().requireGrad();
    const c = tensor(unitRows(K, D, 2), [K, D]).keep().requireGrad();
    const zk = tensor(unitRows(b, D, 3), [b, D]).keep();
    const scores = scope(() => matmul(z, c, { transB: true }).detach()).keep();
    try {
      const ours = () => finish(scope(() => sum(sinkhorn(scores, { epsilon: EPS, iterations: ITERS }))).keep());
      const mm = await timeIt(() => finish(scope(() => sum(matmul(z, c, { transB: true }))).keep()).then(() => undefined), budget);
      const t = await timeIt(() => ours().then(() => undefined), budget);
      let peerMs = NaN;
      let check = 'no peer';
      if (peer) {
        const s = peer.tf.tensor2d(await scores.read() as Float32Array, [b, K]);
        const mine = await scope(() => sinkhorn(scores, { epsilon: EPS, iterations: ITERS })).read();
        const theirsT = tfSinkhorn(peer, s);
        const theirs = await theirsT.data();
        theirsT.dispose();
        let worst = 0;
        for (let i = 0; i < mine.length; i++) worst = Math.max(worst, Math.abs(mine[i] - theirs[i]) / Math.max(Math.abs(theirs[i]), 1e-6));
        check = Number.isFinite(worst) ? `max rel ${worst.toExponential(1)}` : 'TF.js overflows (|S|/ε > 88)';
        peerMs = (await timeIt(async () => {
          peer.tf.tidy(() => peer.tf.sum(tfSinkhorn(peer, s)));
          await peer.sync();
        }, budget)).bestMs;
        s.dispose();
      }
      results.push(Object.assign(row(`sinkhorn B=${b} K=${K}`, t.bestMs, peerMs, 'ms'), { matmul: mm.bestMs, vsMatmul: t.bestMs / mm.bestMs }));
      detail.push([`sinkhorn B=${b} K=${K}`, t.bestMs, mm.bestMs, peerMs, t.bestMs / mm.bestMs, t.bestMs / peerMs, check]);

      const protoStep = () => lossStep([z, c], () => prototypeLoss(z, zk, c, { temperature: TEMP }).loss);
      // Its matmuls: the two score matrices z·Cᵀ, zk·Cᵀ and the separation's C·Cᵀ.
      const mmBoth = () => lossStep([z, c], () => add(add(sum(matmul(z, c, { transB: true })), sum(matmul(zk, c, { transB: true }))), sum(matmul(c, c, { transB: true }))));
      const p = await timeIt(() => protoStep().then(() => undefined), budget);
      const m2 = await timeIt(() => mmBoth().then(() => undefined), budget);
      results.push(Object.assign(row(`prototypes B=${b} K=${K}`, p.bestMs, NaN, 'ms'), { matmul: m2.bestMs, vsMatmul: p.bestMs / m2.bestMs }));
      detail.push([`prototypes B=${b} K=${K}`, p.bestMs, m2.bestMs, '-', p.bestMs / m2.bestMs, '-', `loss ${(await protoStep()).toFixed(4)}`]);
    } finally {
      for (const t of [z, c, zk, scores]) t.dispose();
    }
  }

  // The rebalanced loss on the queue: B = 256 queries and keys, Q queued keys.
  for (const qn of QUEUES) {
    const q = tensor(randomData(B * D, 4), [B, D]).keep().requireGrad();
    const k = tensor(randomData(B * D, 5), [B, D]).keep();
    const y = longTailLabels(B, CLASSES, 0.7, 6);
    const yq = longTailLabels(qn, CLASSES, 0.7, 7);
    const labels = tensor(y, [B], 'i32').keep();
    const queue = { keys: tensor(unitRows(qn, D, 8), [qn, D]).keep(), labels: tensor(yq, [qn], 'i32').keep() };
    const w = tensor(Float32Array.from(y, (c) => 1 / (1 + 0.05 * c)), [B]).keep();
    const yf = tensor(Float32Array.from(y), [B]).keep();
    const qyf = tensor(Float32Array.from(yq), [qn]).keep();
    try {
      const fused = () => lossStep([q], () => rebSupCon(q, k, labels, queue, { temperature: TEMP, weights: w }));
      const composed = () => lossStep([q], () => composedReb(q, k, yf, queue.keys, qyf, w));
      const mms = () => lossStep([q], () => {
        const zq = l2Normalize(q);
        return add(sum(matmul(zq, concat([zq, k], 0), { transB: true })), sum(matmul(zq, queue.keys, { transB: true })));
      });
      const a = await fused();
      const bb = await composed();
      const f = await timeIt(() => fused().then(() => undefined), budget);
      const m = await timeIt(() => mms().then(() => undefined), budget);
      const cm = await timeIt(() => composed().then(() => undefined), budget);
      const name = `rebSupCon B=${B} Q=${qn}`;
      results.push(Object.assign(row(name, f.bestMs, cm.bestMs, 'ms'), { matmul: m.bestMs, vsMatmul: f.bestMs / m.bestMs }));
      detail.push([name, f.bestMs, m.bestMs, cm.bestMs, f.bestMs / m.bestMs, f.bestMs / cm.bestMs, `rel ${(Math.abs(a - bb) / Math.abs(bb)).toExponential(1)}`]);
    } finally {
      for (const t of [q, k, labels, queue.keys, queue.labels, w, yf, qyf]) t.dispose();
    }
  }
  console.log(formatTable(detail));
  printReport('sinkhorn', e.describeAdapter(), results);
}

await main();
