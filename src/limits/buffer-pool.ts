/**
 * The upload buffers of one thread: at most `budgetBytes` of them exist at once, and a returned
 * buffer is lent again instead of allocating a new one. Without it every upload session held its
 * own chunk buffer (10 MiB by default) until the garbage collector got to it, so 32 sessions in
 * flight made a run of large files cost hundreds of MB; with it, uploads beyond the budget wait for
 * a buffer, and memory is the budget whatever the number of files.
 *
 * A request larger than the whole budget is still served, alone, so one big buffer can never wait
 * forever. Small buffers (a small file's whole content) are not pooled: they come from Node's own
 * slab and are bounded by the thread's number of uploads.
 */
const POOLED_MIN_BYTES = 256 * 1024;

export class BufferPool {
  private readonly free: Buffer[] = [];
  /** Bytes of every buffer this pool has made and not dropped, lent or free. */
  private held = 0;
  private lent = 0;
  private readonly waiters: { size: number; resolve: (b: Buffer) => void }[] = [];

  constructor(readonly budgetBytes: number) {}

  /** A buffer of at least `size` bytes (its `length` may be larger); give it back with `give`. */
  async take(size: number): Promise<Buffer> {
    if (size < POOLED_MIN_BYTES) return Buffer.allocUnsafe(size);
    const ready = this.tryTake(size);
    if (ready) return ready;
    return new Promise<Buffer>((resolve) => this.waiters.push({ size, resolve }));
  }

  give(buffer: Buffer): void {
    if (buffer.length < POOLED_MIN_BYTES) return;
    this.lent -= buffer.length;
    this.free.push(buffer);
    while (this.waiters.length > 0) {
      const next = this.tryTake(this.waiters[0].size);
      if (!next) break;
      this.waiters.shift()!.resolve(next);
    }
  }

  private tryTake(size: number): Buffer | null {
    // Not much larger than asked: a big chunk buffer is not tied up by a medium-sized file.
    const fit = this.free.findIndex((b) => b.length >= size && b.length < 2 * size);
    if (fit >= 0) {
      const [buffer] = this.free.splice(fit, 1);
      this.lent += buffer.length;
      return buffer;
    }
    // Free buffers too small for this request are dropped to make room for one that fits.
    while (this.held + size > this.budgetBytes && this.free.length > 0) this.held -= this.free.pop()!.length;
    if (this.held + size > this.budgetBytes && this.lent > 0) return null;
    const buffer = Buffer.allocUnsafe(size);
    this.held += size;
    this.lent += size;
    return buffer;
  }
}
