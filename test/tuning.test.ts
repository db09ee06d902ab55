// The winners table (src/ops/tuning/table.ts): at start-up a known adapter takes its entry's variants
// without measuring anything, an unknown one falls back to measuring the matmul styles, a malformed
// table is refused naming the entry and the field; the bundled table is valid and matched by key.
import { afterAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import type { Dispatch } from '../src/engine.js';
import BUNDLED from '../src/ops/tuning/winners.json' with { type: 'json' };
import { gemmClass } from '../src/ops/tuning/variants.js';

const register = { kernel: 'register', wg: 64, block: 8 };
const conv = { forward: { default: register }, dgrad: { default: register }, wgrad: { default: { ...register, split: 2048 } } };

/** A table with one entry for `adapter` whose default matmul is register 16x4 and, for 20x36x12 products, tiled 32x32x16. */
function tableFor(adapter: { vendor: string; architecture: string; device?: string }) {
  return {
    format: T.WINNERS_FORMAT,
    entries: [{
      adapter,
      measured: { by: 'test' },
      matmul: {
        default: { kernel: 'register', wgX: 16, wgY: 4 },
        classes: { [gemmClass(20, 36, 12)]: { kernel: 'tiled', bm: 32, bn: 32, bk: 16, tm: 4, tn: 4, vec4: true, buffers: 2 } },
      },
      conv,
    }],
  };
}

/** A fresh engine made by init(opts) (the current one destroyed). */
async function fresh(opts: T.EngineOptions): Promise<T.Engine> {
  T.engine().destroy();
  return T.init({ log: false, ...opts });
}

/** The matmul and conv2d dispatches `work` records on `e`. */
function recording(e: T.Engine, work: () => void): Dispatch[] {
  const seen: Dispatch[] = [];
  const original = e.dispatch.bind(e);
  e.dispatch = (d) => {
    if (d.family === 'matmul' || d.family === 'conv2d') seen.push(d);
    original(d);
  };
  try {
    T.scope(work);
  } finally {
    e.dispatch = original;
  }
  return seen;
}

let e = await T.init({ log: false, matmul: 'register' });
const here = { vendor: e.adapter.vendor, architecture: e.adapter.architecture, device: e.adapter.device };

afterAll(() => {
  T.engine().destroy();
});

describe('winners table at start-up', () => {
  it("a known adapter runs its entry's variants and measures nothing", async () => {
    e = await fresh({ winners: tableFor(here) });
    // The start-up measurement would have recorded 4 products.
    expect(e.dispatchCount).toBe(0);
    expect(T.tuningOf(e).source).toBe(`table ${here.vendor} / ${here.architecture} / ${here.device}`);
    expect(e.matmulVariant).toBe('register');
    const listed = recording(e, () => void T.matmul(T.zeros([20, 12]), T.zeros([12, 36])));
    expect(listed.map((d) => d.entry)).toEqual(['matmul_tiled']);
    expect(listed[0].generated?.consts).toMatchObject({ BM: 32, BN: 32, BK: 16, NBUF: 2 });
    expect(listed[0].constants).toMatchObject({ A_VEC: true, B_VEC: true });
    const other = recording(e, () => void T.matmul(T.zeros([70, 13]), T.zeros([13, 5])));
    expect(other.map((d) => [d.entry, d.constants])).toEqual([['matmul_register', { WG_X: 16, WG_Y: 4 }]]);
    const wgrad = recording(e, () => {
      const w = T.zeros([4, 3, 3, 3]).requireGrad();
      T.conv2d(T.zeros([2, 3, 6, 6]), w, null, { padding: 1 }).backward(T.zeros([2, 4, 6, 6]));
    });
    expect(wgrad.find((d) => d.entry === 'conv2d_wgrad')?.constants).toMatchObject({ WG: 64, ROWS: 8, COLS: 8 });
    // A style forced by the caller wins over the entry's default.
    e = await fresh({ winners: tableFor(here), matmul: 'shared' });
    expect(e.matmulVariant).toBe('shared');
    expect(recording(e, () => void T.matmul(T.zeros([70, 13]), T.zeros([13, 5]))).map((d) => d.generated?.consts)).toEqual([
      { BM: 64, BN: 64, BK: 16, TM: 4, TN: 4, NBUF: 1 },
    ]);
  });

  it('an unknown adapter falls back to measuring the matmul styles at start-up', async () => {
    e = await fresh({ winners: tableFor({ vendor: 'nobody', architecture: 'nothing' }) });
    expect(T.tuningOf(e).source).toBe('autotune');
    // Each style: a warm-up product and a timed one.
    expect(e.dispatchCount).toBe(4);
    expect(['register', 'shared']).toContain(e.matmulVariant);
  });

  it('a malformed table is refused at init, naming the entry and the field', async () => {
    const bad = tableFor(here);
    (bad.entries[0].matmul.classes as Record<string, unknown>)[gemmClass(20, 36, 12)] = { kernel: 'tiled', bm: 32, bn: 32, bk: 16, tm: 3, tn: 4, vec4: true, buffers: 2 };
    T.engine().destroy();
    await expect(T.init({ log: false, winners: bad })).rejects.toThrow(
      `winners table: entries[0] (${here.vendor} / ${here.architecture} / ${here.device}): matmul.classes['64x64x16'].tm: expected 4, 8, 12 or 16, got 3`,
    );
    e = await T.init({ log: false, matmul: 'register' });
  });
});

describe('parseWinners', () => {
  const entry = () => structuredClone(tableFor({ vendor: 'v', architecture: 'a' }));
  const refuses = (edit: (t: ReturnType<typeof entry>) => void, message: string) => {
    const t = entry();
    edit(t);
    expect(() => T.parseWinners(t)).toThrow(message);
  };

  it('refuses each kind of fault with the path of the field', () => {
    refuses((t) => void ((t as { format: string }).format = 'v0'), `winners table: format is "v0", expected '${T.WINNERS_FORMAT}'`);
    refuses((t) => void ((t.entries[0].adapter as { vendor?: string }).vendor = undefined), 'winners table: entries[0].adapter.vendor: expected a string, got undefined');
    refuses((t) => void ((t.entries[0].matmul.default as { kernel: string }).kernel = 'magic'), "entries[0] (v / a): matmul.default.kernel: expected one of 'register', 'tiled', 'subgroup', got \"magic\"");
    refuses((t) => void ((t.entries[0].matmul.default as Record<string, unknown>).wgZ = 1), "matmul.default: unknown field 'wgZ' for kernel 'register' (fields: wgX, wgY)");
    refuses((t) => void ((t.entries[0].conv.wgrad.default as { split?: number }).split = undefined), 'conv.wgrad.default.split: expected a positive integer (threads of the split reduction), got undefined');
    refuses((t) => void ((t.entries[0].conv.forward.default as Record<string, unknown>).split = 8), "conv.forward.default: unknown field 'split' for kernel 'register' (fields: wg, block)");
    refuses((t) => void ((t.entries[0].conv.dgrad as Record<string, unknown>).classes = { big: register }), "conv.dgrad.classes: 'big' is not a shape class");
    refuses(
      (t) => void (t.entries[0].conv.forward.default = { kernel: 'tiled', bm: 16, bn: 128, bk: 16, tm: 4, tn: 8, buffers: 1 } as never),
      'conv.forward.default: 64 threads must be a multiple of bn (128) and of bk (16): each thread stages one column',
    );
    refuses((t) => void ((t.entries[0] as Record<string, unknown>).f32 = {}), "entries[0] (v / a): unknown field 'f32'");
  });

  it('matches an entry by vendor, architecture and device, else by a non-empty architecture', () => {
    const t = T.parseWinners({
      format: T.WINNERS_FORMAT,
      entries: [
        { ...tableFor({ vendor: 'v', architecture: 'a', device: 'd1' }).entries[0] },
        { ...tableFor({ vendor: 'v', architecture: 'a' }).entries[0], measured: { by: 'whole architecture' } },
        { ...tableFor({ vendor: 'v', architecture: '' }).entries[0], measured: { by: 'no architecture' } },
      ],
    });
    const adapter = (architecture: string, device: string) => ({ ...e.adapter, vendor: 'v', architecture, device });
    expect(T.findEntry(t, adapter('a', 'd1'))?.adapter.device).toBe('d1');
    expect(T.findEntry(t, adapter('a', 'd2'))?.measured.by).toBe('whole architecture');
    // An empty architecture says nothing about the chip: only a device match counts.
    expect(T.findEntry(t, adapter('', 'd3'))).toBeUndefined();
  });

  it('accepts the bundled table, whose entries say how they were measured', () => {
    const t = T.parseWinners(BUNDLED);
    for (const x of t.entries) expect(x.measured).toHaveProperty('date');
  });
});

describe('specialising a kernel family', () => {
  it('refuses an undeclared generated constant, a feature the adapter lacks, and f16 storage without shader-f16', async () => {
    expect(() => e.kernels.pipeline('matmul', 'matmul_tiled', {}, { consts: { BMX: 32 } })).toThrow(
      'shaders/matmul.wgsl declares no generated constant BMX',
    );
    expect(() => e.kernels.pipeline('matmul', 'matmul_tiled', {}, { consts: { NBUF: true } })).toThrow('generated constant NBUF (u32) cannot take true');
    const missing = (['shader-f16', 'subgroups'] as const).filter((f) => !e.features.has(f));
    for (const f of missing) {
      expect(() => e.kernels.pipeline('matmul', 'matmul_tiled', {}, { features: [f] })).toThrow(`needs the adapter feature ${f}, which this adapter lacks`);
    }
    if (!e.features.has('shader-f16')) {
      T.engine().destroy();
      await expect(T.init({ log: false, f16Storage: true })).rejects.toThrow(/init: f16Storage needs the adapter feature shader-f16, which .* lacks/);
      e = await T.init({ log: false });
    }
  });
});

