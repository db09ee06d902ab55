// Tape-based reverse-mode autograd. Each op that has an input requiring a gradient attaches a GradFn to
// its output: the op's name, its inputs, and a rule mapping the output's gradient to the inputs'
// gradients (written next to the forward in ops/). backward() walks the graph in reverse topological
// order, accumulating gradients; leaf tensors collect theirs in `.grad`.
import { engine } from './engine.js';
import { formatShape, scope, Tensor } from './tensor.js';

/** How a tensor was computed: the op, its inputs, and the vector-Jacobian product of the op. */
export interface GradFn {
  op: string;
  inputs: readonly Tensor[];
  /** Maps d(loss)/d(output) to d(loss)/d(input) for each input (null where none is needed). */
  backward: ((g: Tensor) => readonly (Tensor | null)[]) | null;
}

export interface BackwardOptions {
  /** Keep the graph so that backward() can run through it again (default false: it is freed). */
  retainGraph?: boolean;
}

/**
 * The two computations backward() performs itself: the seed d(root)/d(root) and the sum of two gradient
 * contributions of one shape. Both are ops, and ops sit above the tape, so ops/elementwise.ts hands
 * them over when it loads instead of the tape importing them.
 */
export interface GradientArithmetic {
  /** A tensor of ones (f32) of `shape`. */
  ones(shape: readonly number[]): Tensor;
  /** a + b, same shapes. */
  add(a: Tensor, b: Tensor): Tensor;
}

let arithmetic: GradientArithmetic | null = null;

/** Gives backward() its seed and accumulation ops; ops/elementwise.ts calls it once, at load. */
export function provideGradientArithmetic(ops: GradientArithmetic): void {
  arithmetic = ops;
}

/** True when an op on these inputs must be recorded. */
export function needsGrad(inputs: readonly Tensor[]): boolean {
  return engine().gradEnabled && inputs.some((t) => t.requiresGrad);
}

/** Records `out = op(inputs)` on the tape when any input requires a gradient. Returns `out`. */
export function recordOp(out: Tensor, op: string, inputs: readonly Tensor[], backward: (g: Tensor) => readonly (Tensor | null)[]): Tensor {
  if (needsGrad(inputs)) {
    out.requiresGrad = true;
    out.gradFn = { op, inputs, backward };
  }
  return out;
}

/**
 * An identity on `x` that hands the gradient arriving at this point of the graph to `fn` during
 * backward(), then passes it on unchanged: the way to see the gradient of an intermediate tensor (a
 * layer's output gradient δ, say) without splitting the graph. Use the returned tensor downstream in
 * place of `x`. `fn` receives the total gradient w.r.t. `x`'s value (every use of the returned tensor
 * summed, as backward visits a tensor after all its consumers), runs with recording off, and the
 * tensors it creates die when the rule returns (write what must outlive it into kept tensors, e.g. with
 * `assign`); it must not dispose `grad`. It fires once per backward() through it (twice with
 * `retainGraph` and two backward passes) and never when no gradient reaches `x`. Outside recording
 * (noGrad, or `x` needs no gradient) it returns a plain view and `fn` is never called.
 */
export function gradHook(x: Tensor, fn: (grad: Tensor) => void): Tensor {
  return recordOp(Tensor.view(x, x.shape), 'gradHook', [x], (g) => {
    fn(g);
    return [g];
  });
}

/** Runs `fn` without recording anything on the tape (for updates, evaluation, metrics). */
export function noGrad<T>(fn: () => T): T {
  const e = engine();
  const before = e.gradEnabled;
  e.gradEnabled = false;
  try {
    return fn();
  } finally {
    e.gradEnabled = before;
  }
}

/** Tensors reachable from `root` through gradFns, in post-order (inputs before the tensors using them). */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.gradFn?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const next = inputs[i];
      if (next.requiresGrad && !visited.has(next)) {
        visited.add(next);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

function accumulate(ops: GradientArithmetic, into: Tensor | undefined, g: Tensor): Tensor {
  if (!into) return g;
  const sum = ops.add(into, g);
  into.dispose();
  g.dispose();
  return sum;
}

/** See {@link Tensor.backward}. */
export function backward(root: Tensor, grad?: Tensor, opts: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new Error(`backward: tensor ${formatShape(root.shape)} does not require a gradient (no input of its computation has requiresGrad)`);
  }
  if (grad && (grad.shape.length !== root.shape.length || grad.shape.some((d, i) => d !== root.shape[i]))) {
    throw new Error(`backward: the gradient has shape ${formatShape(grad.shape)}, expected the output's shape ${formatShape(root.shape)}`);
  }
  if (!grad && root.size !== 1) {
    throw new Error(
      `backward: output of shape ${formatShape(root.shape)} is not a scalar; pass a gradient of the same shape, e.g. t.backward(ones(t.shape))`,
    );
  }
  const ops = arithmetic;
  if (!ops) throw new Error('backward: no gradient arithmetic was provided; import the ops (src/ops/elementwise.js) first');
  const order = topologicalOrder(root);
  const e = engine();
  const before = e.gradEnabled;
  e.gradEnabled = false;
  try {
    const grads = new Map<Tensor, Tensor>();
    grads.set(root, grad ? Tensor.view(grad, grad.shape) : ops.ones(root.shape));
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k];
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      const fn = t.gradFn;
      if (!fn) {
        // A leaf: its gradient outlives every scope, owned by the tensor.
        g.keep();
        t.grad = accumulate(ops, t.grad ?? undefined, g);
        t.grad.keep();
        continue;
      }
      if (!fn.backward) {
        throw new Error(`backward: the graph through '${fn.op}' was freed by an earlier backward(); pass {retainGraph: true} to the first call`);
      }
      let inputGrads: readonly (Tensor | null)[];
      try {
        // The rule's temporaries die with this scope; the gradients it returns survive.
        inputGrads = scope(() => fn.backward!(g));
      } catch (err) {
        throw new Error(`backward of '${fn.op}': ${(err as Error).message}`);
      }
      const seen = new Set<Tensor>();
      fn.inputs.forEach((input, i) => {
        let gi = inputGrads[i];
        if (!gi) return;
        if (!input.requiresGrad) {
          if (gi !== g) gi.dispose();
          return;
        }
        // A rule may pass g through unchanged or give one tensor to two inputs: give each its own view.
        if (gi === g || seen.has(gi)) gi = Tensor.view(gi, gi.shape);
        seen.add(gi);
        grads.set(input, accumulate(ops, grads.get(input), gi));
      });
      for (const gi of inputGrads) if (gi && gi !== g && !seen.has(gi)) gi.dispose();
      g.dispose();
      if (!opts.retainGraph) fn.backward = null;
    }
  } finally {
    e.gradEnabled = before;
  }
}
