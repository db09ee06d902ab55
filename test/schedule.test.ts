// Learning-rate schedules: the warm-up convention of the long-tail papers' code, step and cosine decay
// against their closed forms and against PyTorch's own schedulers. No GPU.
import { describe, expect, it } from 'vitest';
import { defaultConfig, lrSchedule, resolveConfig } from '../src/index.js';
import { runPython, torchPython } from './reference/python.js';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('learning-rate schedules', () => {
  it('warms up linearly to base over W epochs, then steps down at the milestones (LDAM-DRW on CIFAR-LT)', () => {
    const lr = lrSchedule({ base: 0.1, warmup: 5, decay: { kind: 'step', milestones: [160, 180], gamma: 0.01 } });
    // LDAM-DRW's adjust_learning_rate, with its 1-based epoch = t + 1.
    const ldam = (t: number) => (t + 1 <= 5 ? (0.1 * (t + 1)) / 5 : t + 1 > 180 ? 0.1 * 0.0001 : t + 1 > 160 ? 0.1 * 0.01 : 0.1);
    for (const t of range(200)) expect(lr(t)).toBeCloseTo(ldam(t), 15);
    expect([0, 4, 5, 159, 160, 179, 180].map(lr)).toEqual([0.02, 0.1, 0.1, 0.1, 0.1 * 0.01, 0.1 * 0.01, 0.1 * 0.01 ** 2]);
  });

  it('cosine: base · ½ (1 + cos(π t / T)) without warm-up, shifted by W with it, and min from t = total on', () => {
    const plain = lrSchedule({ base: 0.5, decay: { kind: 'cosine', total: 10 } });
    for (const t of range(11)) expect(plain(t)).toBeCloseTo(0.5 * 0.5 * (1 + Math.cos((Math.PI * t) / 10)), 15);
    expect(plain(0)).toBe(0.5);
    expect(plain(5)).toBeCloseTo(0.25, 15);
    expect(plain(10)).toBe(0);
    expect(plain(25)).toBe(0);

    const warm = lrSchedule({ base: 0.2, warmup: 4, decay: { kind: 'cosine', total: 14, min: 0.02 } });
    [0.05, 0.1, 0.15, 0.2].forEach((v, t) => expect(warm(t)).toBeCloseTo(v, 15));
    for (const t of range(20).slice(4)) {
      expect(warm(t)).toBeCloseTo(0.02 + 0.18 * 0.5 * (1 + Math.cos((Math.PI * (Math.min(t, 14) - 4)) / 10)), 15);
    }
    expect(warm(4)).toBe(0.2);
  });

  it('constant by default; bad options and bad t are refused', () => {
    expect(range(3).map(lrSchedule({ base: 0.3 }))).toEqual([0.3, 0.3, 0.3]);
    expect(() => lrSchedule({ base: 0 })).toThrow('base must be a positive finite number');
    expect(() => lrSchedule({ base: 1, warmup: 1.5 })).toThrow('warmup must be a non-negative integer');
    expect(() => lrSchedule({ base: 1, warmup: 5, decay: { kind: 'step', milestones: [3], gamma: 0.1 } })).toThrow('milestones must be increasing integers ≥ warmup (5), got [3]');
    expect(() => lrSchedule({ base: 1, decay: { kind: 'step', milestones: [20, 10], gamma: 0.1 } })).toThrow('milestones must be increasing');
    expect(() => lrSchedule({ base: 1, decay: { kind: 'step', milestones: [], gamma: 0 } })).toThrow('gamma must be a positive finite number');
    expect(() => lrSchedule({ base: 1, warmup: 10, decay: { kind: 'cosine', total: 10 } })).toThrow('cosine total must be an integer > warmup (10)');
    expect(() => lrSchedule({ base: 1, decay: { kind: 'cosine', total: 10, min: 2 } })).toThrow('cosine min must lie in [0, base]');
    expect(() => lrSchedule({ base: 1 })(-1)).toThrow('t must be a non-negative integer');
    expect(() => lrSchedule({ base: 1 })(0.5)).toThrow('t must be a non-negative integer');
  });

  const skip = 'python' in torchPython ? '' : ` (skipped: ${torchPython.missing})`;
  it.runIf(!skip)(`matches PyTorch's MultiStepLR and CosineAnnealingLR${skip}`, () => {
    // The schedulers are stepped once per epoch after the optimizer, as PyTorch prescribes.
    const script = String.raw`
import json, torch
def run(make, n):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = make(opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]['lr'])
        opt.step()
        sched.step()
    return out
print(json.dumps({
    'step': run(lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[3, 7], gamma=0.2), 12),
    'cosine': run(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001), 11),
}))
`;
    const torch = JSON.parse(runPython(script)) as { step: number[]; cosine: number[] };
    const step = lrSchedule({ base: 0.1, decay: { kind: 'step', milestones: [3, 7], gamma: 0.2 } });
    const cosine = lrSchedule({ base: 0.1, decay: { kind: 'cosine', total: 10, min: 0.001 } });
    torch.step.forEach((v, t) => expect(step(t)).toBeCloseTo(v, 14));
    torch.cosine.forEach((v, t) => expect(cosine(t)).toBeCloseTo(v, 14));
  });

  it("a run's warm-up: per step by default (the rate rises with every step), per epoch as LDAM/BCL's code", () => {
    // 2 warm-up epochs of 4 steps, then cosine over 6 epochs.
    const steps = 4;
    const perStep = resolveConfig(defaultConfig({ lr: 0.8, epochs: 6, warmupEpochs: 2 })).schedule;
    const ramp = [0, 1].flatMap((e) => range(steps).map((i) => perStep(e, i, steps)));
    expect(ramp).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8].map((v) => expect.closeTo(v, 12)));
    // After the warm-up, the epoch's decay for every step of it.
    const cosine = (t: number) => 0.8 * 0.5 * (1 + Math.cos((Math.PI * (t - 2)) / 4));
    for (const e of [2, 3, 5]) for (const i of range(steps)) expect(perStep(e, i, steps)).toBeCloseTo(cosine(e), 12);

    const perEpoch = resolveConfig(defaultConfig({ lr: 0.8, epochs: 6, warmupEpochs: 2, warmupMode: 'per-epoch' })).schedule;
    expect(range(steps).map((i) => perEpoch(0, i, steps))).toEqual([0.4, 0.4, 0.4, 0.4]);
    expect(range(steps).map((i) => perEpoch(1, i, steps))).toEqual([0.8, 0.8, 0.8, 0.8]);
    // One warm-up epoch no longer means none: the old per-epoch rule gave epoch 0 the full rate.
    const one = resolveConfig(defaultConfig({ lr: 0.05, epochs: 6, warmupEpochs: 1 })).schedule;
    expect(one(0, 0, 116)).toBeCloseTo(0.05 / 116, 15);
    expect(one(0, 115, 116)).toBeCloseTo(0.05, 15);
  });
});
