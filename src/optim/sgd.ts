// Stochastic gradient descent with momentum, Nesterov and weight decay, as PyTorch's torch.optim.SGD
// computes it: parameter groups and momentum buffers around the update op of ops/sgd.ts, one dispatch
// per parameter tensor recorded with the rest of the step; nothing is read back.
import { zeros, zerosLike } from '../ops/creation.js';
import { sgdStep } from '../ops/sgd.js';
import { assertDType } from '../ops/validate.js';
import { formatShape, Tensor } from '../tensor.js';

/** A set of parameters sharing a weight decay (e.g. none for biases and batch-norm affine weights). */
export interface ParamGroup {
  params: Tensor[];
  weightDecay?: number;
}

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  /** Default weight decay of groups that set none. */
  weightDecay?: number;
}

export class SGD {
  /** Learning rate of the next step; set it from a schedule before each step. */
  lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly groups: { params: Tensor[]; weightDecay: number }[];
  private readonly buffers = new Map<Tensor, Tensor>();
  private flags: Tensor | null = null;

  constructor(params: Tensor[] | ParamGroup[], opts: SGDOptions) {
    const { lr, momentum = 0, dampening = 0, nesterov = false, weightDecay = 0 } = opts;
    for (const [name, v] of Object.entries({ lr, momentum, dampening, weightDecay })) {
      if (!Number.isFinite(v) || v < 0) throw new Error(`SGD: ${name} must be a finite number >= 0, got ${v}`);
    }
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      throw new Error(`SGD: Nesterov momentum needs momentum > 0 and dampening 0 (got momentum ${momentum}, dampening ${dampening})`);
    }
    const groups: ParamGroup[] = params.length && params[0] instanceof Tensor ? [{ params: params as Tensor[] }] : (params as ParamGroup[]);
    this.groups = groups.map((g) => ({ params: g.params, weightDecay: g.weightDecay ?? weightDecay }));
    for (const g of this.groups) for (const p of g.params) assertDType('SGD', p, ['f32'], 'parameter');
    this.lr = lr;
    this.momentum = momentum;
    this.dampening = dampening;
    this.nesterov = nesterov;
  }

  /** Every parameter, in group order. */
  get params(): Tensor[] {
    return this.groups.flatMap((g) => g.params);
  }

  /**
   * Records one update of every parameter that has a gradient. Call after backward(); gradients are
   * left in place (clear them with {@link zeroGrad}).
   */
  step(): void {
    let slot = -1;
    for (const group of this.groups) {
      for (const p of group.params) {
        slot++;
        if (!p.grad) continue;
        if (p.grad.size !== p.size) {
          throw new Error(`SGD: gradient of shape ${formatShape(p.grad.shape)} for a parameter of shape ${formatShape(p.shape)}`);
        }
        sgdStep(p, p.grad, this.bufferOf(p), {
          lr: this.lr, momentum: this.momentum, dampening: this.dampening, weightDecay: group.weightDecay, nesterov: this.nesterov,
        }, { status: this.status, slot });
      }
    }
  }

  /** Frees every parameter's gradient (the next backward() starts from zero). */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** The momentum buffer of `p` (created as zeros on first use), for checkpoints. */
  bufferOf(p: Tensor): Tensor {
    let buf = this.buffers.get(p);
    if (!buf) {
      buf = zerosLike(p).keep();
      this.buffers.set(p, buf);
    }
    return buf;
  }

  /**
   * One u32 flag per parameter (in the order of {@link params}), set on the device by a step whose
   * gradient or updated value holds a NaN or an infinity: read it with the loss to stop a run at the
   * parameter where a non-finite value appeared. Never cleared: such a run does not go on.
   */
  get status(): Tensor {
    this.flags ??= zeros([Math.max(1, this.params.length)], 'u32').keep();
    return this.flags;
  }

  /** Frees the momentum buffers and the flags. */
  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
    this.flags?.dispose();
    this.flags = null;
  }
}
