// An async iterator over an epoch's batches that prepares batch i + 1 (builds its plan, uploads its
// indices) as soon as it hands out batch i, so the upload is queued while the caller's step on batch i
// is recorded and run, not after it. Platform-neutral: it knows tensors only to free them.
import { tensorsIn } from '../tensor.js';

/** Options of {@link prefetch}. */
export interface PrefetchOptions<P> {
  /**
   * Frees a prepared item. Default: disposes every tensor in it (the item itself, or inside arrays and
   * plain objects, as scope() finds them).
   */
  dispose?: (item: P) => void;
}

/** Disposes every tensor found in `item`. */
function disposeTensors(item: unknown): void {
  for (const t of tensorsIn(item)) t.dispose();
}

/** A failed promise whose failure is reported where it is awaited, not as an unhandled rejection. */
function settled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/**
 * Iterates `prepare(batch, i)` over `source` one item ahead: when the loop receives item i, item i + 1
 * is already being prepared. The order is the source's.
 *
 * The iterator owns what it prepares: item i is freed (`opts.dispose`) when the loop asks for item
 * i + 1 or ends, so an item must not be used after its loop iteration. Tensors in an item are kept out
 * of any scope() for that reason. Leaving the loop early (break, return, throw) calls `return()`, which
 * frees the current item and the one prepared ahead, and closes the source. An error of `prepare` is
 * thrown by the next() that would have returned that item. Call next() one at a time (as for await does).
 */
export function prefetch<B, P>(
  source: Iterable<B>,
  prepare: (batch: B, index: number) => P | Promise<P>,
  opts: PrefetchOptions<P> = {},
): AsyncIterableIterator<P> {
  const dispose = opts.dispose ?? disposeTensors;
  const it = source[Symbol.iterator]();
  const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
  let index = 0;
  let ahead: Promise<IteratorResult<P, undefined>> | null = null;
  let current: { item: P } | null = null;
  let closed = false;

  const own = (item: P): IteratorResult<P, undefined> => {
    for (const t of tensorsIn(item)) t.keep();
    return { done: false, value: item };
  };
  // Called synchronously by next(), so that a synchronous upload is queued before the caller resumes.
  const start = (): Promise<IteratorResult<P, undefined>> => {
    try {
      const r = it.next();
      if (r.done) return Promise.resolve(done);
      const item = prepare(r.value, index++);
      return settled(item instanceof Promise ? item.then(own) : Promise.resolve(own(item)));
    } catch (err) {
      return settled(Promise.reject(err));
    }
  };
  const release = () => {
    if (current) dispose(current.item);
    current = null;
  };
  const close = async () => {
    release();
    if (closed) return;
    closed = true;
    const pending = ahead;
    ahead = null;
    it.return?.();
    const r = await pending?.catch(() => done);
    if (r && !r.done) dispose(r.value);
  };

  const iterator: AsyncIterableIterator<P> = {
    async next() {
      release();
      if (closed) return done;
      const pending = ahead ?? start();
      ahead = null;
      let r: IteratorResult<P, undefined>;
      try {
        r = await pending;
      } catch (err) {
        await close();
        throw err;
      }
      if (r.done) {
        closed = true;
        return done;
      }
      current = { item: r.value };
      ahead = start();
      return r;
    },
    async return() {
      await close();
      return done;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
