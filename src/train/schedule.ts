// Learning-rate schedules as pure functions of the epoch (or step) index: no state to save in a
// checkpoint, and a resumed run gets the same rates as an uninterrupted one.

/** What follows the warm-up. */
export type Decay =
  /** The base rate throughout. */
  | { kind: 'constant' }
  /** base · gamma^k, k = how many milestones are ≤ t (PyTorch's MultiStepLR). */
  | { kind: 'step'; milestones: readonly number[]; gamma: number }
  /**
   * min + (base − min) · ½ (1 + cos(π (t − W) / (total − W))) for W ≤ t ≤ total, then min (PyTorch's
   * CosineAnnealingLR with T_max = total − W, started after the warm-up; `min` defaults to 0).
   */
  | { kind: 'cosine'; total: number; min?: number };

/** Options of {@link lrSchedule}. t, `warmup`, milestones and `total` all count the same unit: epochs or steps. */
export interface ScheduleOptions {
  /** The peak rate, reached at the end of the warm-up. */
  base: number;
  /** W, the number of warm-up epochs (or steps), default 0. */
  warmup?: number;
  /** Default `{kind: 'constant'}`. */
  decay?: Decay;
}

/** A learning rate for each epoch (or step) index t = 0, 1, 2, …. */
export type LrSchedule = (t: number) => number;

const isCount = (v: number) => Number.isInteger(v) && v >= 0;

/**
 * A learning-rate schedule: `lr(t)` is the rate for epoch (or step) t, counted from 0, applying to all of it.
 *
 * - Warm-up, t < W: base · (t + 1) / W, rising linearly so that the last warm-up epoch already runs at
 *   base (the convention of the LDAM-DRW and BCL code: 5 warm-up epochs at 1/5, 2/5, …, 5/5 of base).
 * - Then the decay: constant, step (milestones must lie at or after the warm-up), or cosine (reaching
 *   `min` at t = total and staying there).
 *
 * Example: LDAM-DRW on CIFAR-LT, 200 epochs, is `{base: 0.1, warmup: 5, decay: {kind: 'step',
 * milestones: [160, 180], gamma: 0.01}}`. BCL's code shifts its cosine by one epoch
 * (cos(π (t − W + 1) / (E − W + 1))); this one follows PyTorch, starting the cosine at base.
 */
export function lrSchedule(opts: ScheduleOptions): LrSchedule {
  const { base, warmup = 0, decay = { kind: 'constant' } } = opts;
  if (!(base > 0) || !Number.isFinite(base)) throw new Error(`lrSchedule: base must be a positive finite number, got ${base}`);
  if (!isCount(warmup)) throw new Error(`lrSchedule: warmup must be a non-negative integer, got ${warmup}`);
  let after: (t: number) => number;
  if (decay.kind === 'constant') {
    after = () => base;
  } else if (decay.kind === 'step') {
    const { milestones, gamma } = decay;
    if (!(gamma > 0) || !Number.isFinite(gamma)) throw new Error(`lrSchedule: gamma must be a positive finite number, got ${gamma}`);
    milestones.forEach((m, i) => {
      if (!isCount(m) || m < warmup || (i > 0 && m <= milestones[i - 1])) {
        throw new Error(`lrSchedule: milestones must be increasing integers ≥ warmup (${warmup}), got [${milestones.join(', ')}]`);
      }
    });
    after = (t) => base * gamma ** milestones.filter((m) => m <= t).length;
  } else if (decay.kind === 'cosine') {
    const { total, min = 0 } = decay;
    if (!Number.isInteger(total) || total <= warmup) throw new Error(`lrSchedule: cosine total must be an integer > warmup (${warmup}), got ${total}`);
    if (!(min >= 0 && min <= base)) throw new Error(`lrSchedule: cosine min must lie in [0, base], got ${min}`);
    after = (t) => min + (base - min) * 0.5 * (1 + Math.cos((Math.PI * (Math.min(t, total) - warmup)) / (total - warmup)));
  } else {
    throw new Error(`lrSchedule: unknown decay kind '${(decay as { kind: string }).kind}' (expected constant, step or cosine)`);
  }
  return (t) => {
    if (!isCount(t)) throw new Error(`lr: t must be a non-negative integer (an epoch or step index), got ${t}`);
    return t < warmup ? (base * (t + 1)) / warmup : after(t);
  };
}
