// A long training-like loop must not grow memory: 1000 steps of forward, backward and an in-place SGD
// update leave the live tensor count, the pooled bytes and the bytes allocated from the device flat.
import { beforeAll, expect, it } from 'vitest';
import * as T from '../src/index.js';

beforeAll(async () => {
  await T.init({ log: false });
});

it('1000 training steps leave live tensors and pooled bytes flat', async () => {
  const e = T.engine();
  const x = T.randn([16, 9], 0, 1, { seed: 1 });
  const labels = T.tensor(Array.from({ length: 16 }, (_, i) => i % 3), [16], 'i32');
  const params = [
    T.randn([9, 12], 0, 0.3, { seed: 2 }),
    T.zeros([12]),
    T.randn([12, 3], 0, 0.3, { seed: 3 }),
    T.zeros([3]),
  ].map((p) => p.requireGrad());
  const [w1, b1, w2, b2] = params;
  const step = (): T.Tensor =>
    T.scope(() => {
      const h = T.relu(T.add(T.matmul(x, w1), b1));
      const loss = T.crossEntropy(T.add(T.matmul(h, w2), b2), labels);
      loss.backward();
      T.noGrad(() => {
        for (const p of params) {
          T.assign(p, T.sub(p, T.scale(p.grad!, 0.1)));
          p.grad!.dispose();
          p.grad = null;
        }
      });
      return loss;
    });

  const firstLoss = step();
  const first = await firstLoss.item();
  firstLoss.dispose();
  let reference: T.MemoryInfo | undefined;
  for (let i = 1; i < 1000; i++) {
    step().dispose();
    // Let the queue drain now and then, as a training loop's occasional logging would.
    if (i % 100 === 0) {
      await e.sync();
      const m = e.memory();
      if (i === 100) reference = m;
      else {
        expect(m.liveTensors, `live tensors at step ${i}`).toBe(reference!.liveTensors);
        expect(m.liveBytes, `live bytes at step ${i}`).toBe(reference!.liveBytes);
        expect(m.pooledBytes, `pooled bytes at step ${i}`).toBe(reference!.pooledBytes);
        expect(m.allocatedBytes, `allocated bytes at step ${i}`).toBe(reference!.allocatedBytes);
      }
    }
  }
  const lastLoss = step();
  const last = await lastLoss.item();
  lastLoss.dispose();
  // It is a real training loop: the loss fell.
  expect(last).toBeLessThan(first * 0.5);
  // Inputs and parameters are all that is left.
  expect(e.memory().liveTensors).toBe(reference!.liveTensors);
  expect(reference!.liveTensors).toBe(2 + params.length);
  for (const t of [x, labels, ...params]) t.dispose();
}, 300_000);
