/**
 * The main thread's own in-flight limit. Piscina's queue rejects work beyond `maxQueue` instead of
 * delaying it, and its 'drain' event is not reliable, so backpressure on the walk comes from here.
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

  /** Resolves when nothing is in flight. */
  async idle(): Promise<void> {
    if (this.used === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}
