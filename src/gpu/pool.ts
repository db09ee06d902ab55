// Size-bucketed pool of GPU buffers. A released buffer waits in `pending` until the commands that use
// it have been submitted (see Engine.flush): only then may a queue.writeBuffer upload into it, since
// queue writes run ahead of the commands still being recorded.

/** Bucket size: the next of four steps per power of two (at most 25 % slack), at least 256 bytes. */
export function bucketBytes(bytes: number): number {
  const b = Math.max(256, Math.ceil(bytes / 4) * 4);
  const step = 2 ** Math.max(6, Math.floor(Math.log2(b)) - 2);
  return Math.ceil(b / step) * step;
}

export interface PoolStats {
  /** Bytes of every buffer this pool created and has not destroyed. */
  allocatedBytes: number;
  /** Bytes (and buffers) waiting for reuse, including those waiting for a submit. */
  pooledBytes: number;
  pooledBuffers: number;
}

export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private pending: GPUBuffer[] = [];
  private allocated = 0;
  private pooled = 0;
  private pooledCount = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
    /** Past this many pooled bytes, released buffers are destroyed instead of kept. */
    private readonly maxPooledBytes: number,
  ) {}

  acquire(bytes: number): GPUBuffer {
    const size = bucketBytes(bytes);
    const list = this.free.get(size);
    const reused = list?.pop();
    if (reused) {
      this.pooled -= size;
      this.pooledCount--;
      return reused;
    }
    this.allocated += size;
    return this.device.createBuffer({ size, usage: this.usage });
  }

  /** Returns a buffer that recorded, unsubmitted commands may still use. */
  release(buffer: GPUBuffer): void {
    this.pending.push(buffer);
    this.pooled += buffer.size;
    this.pooledCount++;
  }

  /** Returns a buffer that no unsubmitted command uses. */
  releaseNow(buffer: GPUBuffer): void {
    this.pooled += buffer.size;
    this.pooledCount++;
    this.recycle(buffer);
  }

  /** Called after a submit: pending buffers become reusable. */
  submitted(): void {
    const pending = this.pending;
    this.pending = [];
    for (const b of pending) this.recycle(b);
  }

  private recycle(buffer: GPUBuffer): void {
    if (this.pooled > this.maxPooledBytes) {
      this.pooled -= buffer.size;
      this.pooledCount--;
      this.allocated -= buffer.size;
      buffer.destroy();
      return;
    }
    const list = this.free.get(buffer.size);
    if (list) list.push(buffer);
    else this.free.set(buffer.size, [buffer]);
  }

  /** Destroys every reusable buffer (pending ones stay until the next submit). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.allocated -= b.size;
        this.pooled -= b.size;
        this.pooledCount--;
        b.destroy();
      }
    }
    this.free.clear();
  }

  stats(): PoolStats {
    return { allocatedBytes: this.allocated, pooledBytes: this.pooled, pooledBuffers: this.pooledCount };
  }
}
