// The fused op under the contrastive losses (shaders/contrastive.wgsl): per-anchor masked, weighted
// log-sum-exp over a block of raw dot products, and its backward. The losses in src/losses/ build the
// dot products with matmul and pick positives and weights through the kernel's override constants.
import { recordOp } from '../autograd.js';
import { engine } from '../engine.js';
import { Tensor } from '../tensor.js';
import { workgroupFor } from './rowwise.js';
import { Uniforms } from './uniforms.js';

/** How positives are chosen on the sample columns (see the MODE table in shaders/contrastive.wgsl). */
export type PositiveRule = 'labels' | 'pairs' | 'minority' | 'proto';

const MODE: Record<PositiveRule, number> = { labels: 0, pairs: 1, minority: 2, proto: 3 };
const ELEMENTS_PER_GROUP = 64;

/** Everything the kernel needs besides the two logit blocks; shapes are validated by the caller. */
export interface RowSpec {
  rule: PositiveRule;
  samples: number;
  views: number;
  /** Anchor a (row a of the blocks) is sample row a·stride: 1 = every view, V = view 0 only. */
  stride: number;
  temperature: number;
  /** Multiplies every per-anchor loss (T / base_T for SupCon-style losses). */
  scale: number;
  /** Divide each column's weight by its class size (BCL); needs `classes`. */
  classAverage: boolean;
  /** Range of labels that index class counts (BCL) — 0 when nothing is counted. */
  classes: number;
  minority: number;
  eps: [number, number];
  nanWhenNoPositive: boolean;
  /** Sample labels [B] (i32); null when the rule ignores them (NT-Xent). */
  labels: Tensor | null;
  /** Labels of the extra columns [NE] (i32); null without extra columns. */
  extraLabels: Tensor | null;
}

/**
 * Per-anchor losses [A] from the sample block `gs` [A, NS] (or null) and the extra block `ge` [A, NE]
 * (or null) of the anchors' raw dot products; differentiable w.r.t. both blocks.
 */
export function contrastiveRows(gs: Tensor | null, ge: Tensor | null, spec: RowSpec): Tensor {
  const e = engine();
  const any = (gs ?? ge)!;
  const anchors = any.shape[0];
  const ns = gs ? gs.shape[1] : 0;
  const ne = ge ? ge.shape[1] : 0;
  const params = new Uniforms(48)
    .u32(ns, ne, anchors, spec.stride, spec.views, spec.classes, spec.samples)
    .f32(1 / spec.temperature, spec.scale, spec.eps[0], spec.eps[1]).buffer;
  const constants = {
    MODE: MODE[spec.rule],
    CLASS_AVG: spec.classAverage,
    MINORITY: spec.minority,
    NAN_EMPTY: spec.nanWhenNoPositive,
  };
  // Bindings the selected mode never reads still need a buffer: alias a live one (all read-only).
  // Looked up at each dispatch, so a tensor disposed before backward() fails loudly.
  const inputsBuffers = () => {
    const anyBuf = any.bufferFor('contrastive');
    const labelsBuf = spec.labels?.bufferFor('contrastive') ?? anyBuf;
    return [
      gs?.bufferFor('contrastive') ?? anyBuf,
      ge?.bufferFor('contrastive') ?? anyBuf,
      labelsBuf,
      spec.extraLabels?.bufferFor('contrastive') ?? labelsBuf,
    ];
  };
  const [, , labelsBuf, extraBuf] = inputsBuffers();

  let counts: Tensor | null = null;
  if (spec.classAverage) {
    counts = Tensor.empty([spec.classes]);
    e.dispatch({
      family: 'contrastive', entry: 'class_counts', params,
      buffers: [counts.bufferFor('contrastive'), null, null, null, labelsBuf, extraBuf, null, null],
      groups: e.grid(Math.ceil(spec.classes / ELEMENTS_PER_GROUP)),
    });
  }
  const countsOr = (fallback: GPUBuffer) => counts?.bufferFor('contrastive') ?? fallback;
  const loss = Tensor.empty([anchors]);
  const stats = Tensor.empty([anchors, 2]);
  if (anchors > 0) {
    e.dispatch({
      family: 'contrastive', entry: 'row_stats', constants: { ...constants, WG: workgroupFor(ns + ne) }, params,
      buffers: [loss.bufferFor('contrastive'), stats.bufferFor('contrastive'), ...inputsBuffers(), countsOr(labelsBuf)],
      groups: e.grid(anchors),
    });
  }
  const inputs = [gs, ge].filter((t): t is Tensor => t !== null);
  const out = recordOp(loss, 'contrastive', inputs, (g) => {
    const grads = [gs, ge].map((block, b) => {
      if (!block) return null;
      const d = Tensor.empty(block.shape);
      if (d.size > 0) {
        const bufs = inputsBuffers();
        e.dispatch({
          family: 'contrastive', entry: 'grad_block', constants: { ...constants, BLOCK: b }, params,
          buffers: [d.bufferFor('contrastive'), stats.bufferFor('contrastive'), ...bufs, countsOr(bufs[2]), g.bufferFor('contrastive')],
          groups: e.grid(Math.ceil(d.size / ELEMENTS_PER_GROUP)),
        });
      }
      return d;
    });
    return grads.filter((_, b) => [gs, ge][b] !== null);
  });
  // Without a graph nothing will read the saved statistics again.
  if (!out.requiresGrad) {
    stats.dispose();
    counts?.dispose();
  }
  return out;
}
