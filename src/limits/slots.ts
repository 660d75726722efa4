/**
 * A counting semaphore. The main thread uses one as its in-flight limit (Piscina's queue rejects
 * work beyond `maxQueue` instead of delaying it, and its 'drain' event is not reliable, so
 * backpressure on the walk comes from here); each worker thread uses one to bound the uploads it
 * runs at once while finished uploads wait for their commit.
 */
export class Slots {
  private used = 0;
  private waiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async acquire(): Promise<void> {
    if (this.used < this.size) {
      this.used++;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) {
      next();
      return;
    }
    this.used--;
    if (this.used === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Run `work` holding one slot. */
  async use<T>(work: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  /** Resolves when nothing is in flight. */
  async idle(): Promise<void> {
    if (this.used === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}
