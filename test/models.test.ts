// The models: ResNet-32's forward pass against a float64 CPU reference of the same network with the same
// weights, PyTorch names and parameter counts, evaluation mode, and input checks.
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '../src/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveSafetensors } from '../src/io/node/safetensors.js';
import { ResNetCifar, SmallCNN } from '../src/nn/resnet.js';
import { expectClose, rng } from './reference/check.js';
import { conv2dRef } from './reference/conv.js';
import { batchNormRef } from './reference/norm.js';
import { arr, type Arr } from './reference/ops.js';
import { READ_SAFETENSORS_PY, runPython, torchPython } from './reference/python.js';

beforeAll(async () => {
  await T.init({ log: false });
});

const relu = (x: Arr): Arr => arr(x.shape, x.data.map((v) => Math.max(v, 0)));
const addArr = (a: Arr, b: Arr): Arr => arr(a.shape, a.data.map((v, i) => v + b.data[i]));

/** ResNet-(6n+2) forward in float64 (batch norm in training mode), from the weights of `state`. */
function resnetRef(x: Arr, state: Map<string, Arr>, n: number): Arr {
  const conv = (h: Arr, name: string, stride: number) => conv2dRef({ stride: [stride, stride], padding: [1, 1] }).forward([h, state.get(name)!]);
  const bn = (h: Arr, name: string) => batchNormRef({ training: true, weight: true, bias: true }).forward([h, state.get(`${name}.weight`)!, state.get(`${name}.bias`)!]);
  let h = relu(bn(conv(x, 'conv1.weight', 1), 'bn1'));
  let inPlanes = 16;
  [16, 32, 64].forEach((planes, s) => {
    for (let b = 0; b < n; b++) {
      const stride = s > 0 && b === 0 ? 2 : 1;
      const p = `layer${s + 1}.${b}`;
      const out = bn(conv(relu(bn(conv(h, `${p}.conv1.weight`, stride), `${p}.bn1`)), `${p}.conv2.weight`, 1), `${p}.bn2`);
      let shortcut = h;
      if (stride !== 1 || inPlanes !== planes) {
        // F.pad(h[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4))
        const [bn_, c, hh, ww] = h.shape;
        const [ho, wo] = [Math.ceil(hh / 2), Math.ceil(ww / 2)];
        shortcut = arr([bn_, planes, ho, wo]);
        for (let i = 0; i < bn_; i++)
          for (let ch = 0; ch < c; ch++)
            for (let y = 0; y < ho; y++)
              for (let z = 0; z < wo; z++) shortcut.data[((i * planes + ch + planes / 4) * ho + y) * wo + z] = h.data[((i * c + ch) * hh + 2 * y) * ww + 2 * z];
      }
      h = relu(addArr(out, shortcut));
      inPlanes = planes;
    }
  });
  // Global average pooling, then fc: logits = pooled W^T + b.
  const [batch, c, hh, ww] = h.shape;
  const pooled = new Float64Array(batch * c).map((_, i) => {
    let s = 0;
    for (let j = 0; j < hh * ww; j++) s += h.data[i * hh * ww + j];
    return s / (hh * ww);
  });
  const w = state.get('fc.weight')!;
  const bias = state.get('fc.bias')!;
  const classes = w.shape[0];
  return arr([batch, classes], new Float64Array(batch * classes).map((_, i) => {
    const [r, k] = [Math.floor(i / classes), i % classes];
    let s = bias.data[k];
    for (let j = 0; j < c; j++) s += pooled[r * c + j] * w.data[k * c + j];
    return s;
  }));
}

async function stateArrs(model: T.Module): Promise<Map<string, Arr>> {
  const out = new Map<string, Arr>();
  for (const [k, t] of model.stateDict()) out.set(k, arr([...t.shape], (await t.read()) as Float32Array));
  return out;
}

describe('ResNet for CIFAR', () => {
  it('ResNet-32 has the literature layout: 464,154 parameters for 10 classes, PyTorch names', () => {
    T.manualSeed(3);
    const model = new ResNetCifar(32, 10);
    const names = [...model.stateDict().keys()];
    expect(names.slice(0, 7)).toEqual(['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked', 'layer1.0.conv1.weight']);
    expect(names).toContain('layer3.4.bn2.running_var');
    expect(names.at(-1)).toBe('fc.bias');
    expect(model.parameters().reduce((n, p) => n + p.size, 0)).toBe(464154);
    expect(model.namedParameters().filter(([n]) => /^layer[1-3]\.[0-4]\.conv[12]\.weight$/.test(n)).length).toBe(30);
    model.dispose();
  });

  it('ResNet-32 forward on a batch matches a float64 reference of the same network', async () => {
    T.manualSeed(4);
    const model = new ResNetCifar(32, 10);
    const next = rng(8);
    const xs = Float32Array.from({ length: 2 * 3 * 32 * 32 }, () => next() * 2 - 1);
    const x = T.tensor(xs, [2, 3, 32, 32]);
    const logits = T.scope(() => model.forward(x));
    const want = resnetRef(arr([2, 3, 32, 32], xs), await stateArrs(model), 5);
    // 31 layers of float32 arithmetic, each renormalised by batch norm: 1e-3 is a tight bound here
    // (a wrong shortcut, stride or statistic gives errors of order 1).
    expectClose((await logits.read()) as Float32Array, want.data, 1e-3, 'ResNet-32 logits');
    for (const t of [x, logits]) t.dispose();
    model.dispose();
  });

  const skipTorch = 'python' in torchPython ? '' : ` (skipped: ${torchPython.missing})`;
  // LDAM's resnet32 (BCL's backbone) in PyTorch, from bench/torch_models.py.
  const torchResnet = READ_SAFETENSORS_PY + String.raw`
import sys
sys.path.insert(0, sys.argv[3])
from torch_models import ResNet32

_, state = read_safetensors(sys.argv[1])
_, inputs = read_safetensors(sys.argv[2])
model = ResNet32()
model.load_state_dict({k: t for k, (_, t) in state.items()}, strict=True)
model.eval()
with torch.no_grad():
    y = model(inputs['x'][1])
print(json.dumps({'logits': y.flatten().tolist(), 'batches': int(model.bn1.num_batches_tracked)}))
`;

  it.runIf(!skipTorch)(`PyTorch loads a ResNet-32 state dict strictly and computes the same eval logits${skipTorch}`, async () => {
    T.manualSeed(7);
    const model = new ResNetCifar(32, 10);
    // Two training batches move the running statistics and count in num_batches_tracked.
    for (let i = 0; i < 2; i++) T.scope(() => void T.noGrad(() => model.forward(T.randn([4, 3, 32, 32], 0.3, 1, { seed: 20 + i }))));
    model.eval();
    const x = T.randn([3, 3, 32, 32], 0, 1, { seed: 30 });
    const logits = T.scope(() => model.forward(x));
    const dir = mkdtempSync(join(tmpdir(), 'resnet-torch-'));
    try {
      await saveSafetensors(join(dir, 'model.safetensors'), await T.readTensorEntries(model.stateDict()), { format: 'pt' });
      await saveSafetensors(join(dir, 'x.safetensors'), await T.readTensorEntries({ x }));
      const got = JSON.parse(runPython(torchResnet, [join(dir, 'model.safetensors'), join(dir, 'x.safetensors'), fileURLToPath(new URL('../bench', import.meta.url))])) as { logits: number[]; batches: number };
      expect(got.batches).toBe(2);
      expectClose(got.logits, (await logits.read()) as Float32Array, 1e-4, 'PyTorch logits from our state dict');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const t of [x, logits]) t.dispose();
    model.dispose();
  });

  it('eval mode uses the running statistics and is deterministic', async () => {
    T.manualSeed(5);
    const model = new ResNetCifar(8, 3, { inChannels: 1, classifier: 'cosine' });
    const x = T.randn([3, 1, 12, 12], 0.5, 1, { seed: 9 });
    const train = (await T.scope(() => model.forward(x)).read()) as Float32Array;
    model.eval();
    const a = (await T.scope(() => model.forward(x)).read()) as Float32Array;
    const b = (await T.scope(() => model.forward(x)).read()) as Float32Array;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(train));
    // The cosine classifier bounds logits by s = 30.
    expect(Math.max(...Array.from(a, Math.abs))).toBeLessThanOrEqual(30 + 1e-4);
    x.dispose();
    model.dispose();
  });

  it('refuses images of the wrong shape with the model and shapes named', () => {
    const resnet = new ResNetCifar(8, 10);
    const small = new SmallCNN(10, { inChannels: 1, inputSize: 28, widths: [4, 8] });
    const x = T.zeros([2, 1, 32, 32]);
    expect(() => T.scope(() => resnet.forward(x))).toThrow(/ResNet-8: expected images \[N, 3, H, W\], got \[2, 1, 32, 32\] f32/);
    expect(() => T.scope(() => small.forward(x))).toThrow(/SmallCNN: expected images \[N, 1, 28, 28\], got \[2, 1, 32, 32\] f32/);
    expect(() => new ResNetCifar(30, 10)).toThrow(/depth must be 6n \+ 2/);
    for (const m of [resnet, small]) m.dispose();
    x.dispose();
  });
});

describe('SmallCNN', () => {
  it('names its layers like nn.Sequential and trains its parameters', async () => {
    T.manualSeed(6);
    const model = new SmallCNN(10, { inChannels: 1, inputSize: 28, widths: [4, 8, 8] });
    expect(model.namedParameters().map(([n]) => n)).toEqual([
      'features.0.weight', 'features.0.bias', 'features.1.weight', 'features.1.bias',
      'features.4.weight', 'features.4.bias', 'features.5.weight', 'features.5.bias',
      'features.8.weight', 'features.8.bias', 'features.9.weight', 'features.9.bias',
      'fc.weight', 'fc.bias',
    ]);
    expect(model.featureDim).toBe(8 * 3 * 3);
    const x = T.randn([2, 1, 28, 28], 0, 1, { seed: 1 });
    const labels = T.tensor([3, 7], [2], 'i32');
    T.scope(() => T.crossEntropy(model.forward(x), labels).backward());
    for (const [name, p] of model.namedParameters()) {
      const g = (await p.grad!.read()) as Float32Array;
      expect(g.some((v) => v !== 0), `${name} has a nonzero gradient`).toBe(true);
    }
    for (const t of [x, labels]) t.dispose();
    model.dispose();
  });
});
