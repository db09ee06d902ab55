import * as T from '../src/index.js';
import { uploadImages } from '../src/data/augment.js';
import { augmentViews } from '../src/data/views.js';
const e = await T.init({ log: false });
for (const shape of [[1, 28, 28], [3, 32, 32]]) {
  const n = 2048 * shape[0] * shape[1] * shape[2];
  const u8 = Uint8Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 24);
  for (const fmt of ['f32', 'u8'] as const) {
    const d = uploadImages(fmt === 'u8' ? u8 : Float32Array.from(u8, (v) => v / 255), [2048, ...shape], fmt);
    const norm = { mean: Array(shape[0]).fill(0.5), std: Array(shape[0]).fill(0.25) };
    for (const pol of [{ kind: 'sim' }, { kind: 'randaugment' }, { kind: 'none' }] as const) {
      const idx = Array.from({ length: 256 }, (_, i) => i);
      let best = Infinity;
      for (let r = 0; r < 4; r++) {
        const t0 = performance.now();
        T.scope(() => void augmentViews(d, idx, [pol, pol], { seed: 1, step: r, norm }).batch);
        await e.sync();
        if (r) best = Math.min(best, performance.now() - t0);
      }
      console.log(shape.join('x'), fmt, pol.kind, 'WG', process.env.AUG_WG ?? 'auto', (512 * 1000 / best).toFixed(0), 'views/s');
    }
    d.data.dispose();
  }
}
process.exit(0);
