export type StopReason = 'SIGINT' | 'SIGTERM' | 'max-runtime';

/**
 * The first SIGINT/SIGTERM stops dispatching and lets files in flight finish; the second aborts
 * them. Either way the run still tears down cleanly and records how it ended.
 */
export class StopSignal {
  readonly drain = new AbortController();
  readonly force = new AbortController();
  reason: StopReason | null = null;
  private readonly handlers = new Map<NodeJS.Signals, () => void>();

  constructor(private readonly onForce: () => void) {}

  get requested(): boolean {
    return this.drain.signal.aborted;
  }

  listen(): void {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      const handler = () => this.stop(sig);
      this.handlers.set(sig, handler);
      process.on(sig, handler);
    }
  }

  stop(reason: StopReason): void {
    if (!this.drain.signal.aborted) {
      this.reason = reason;
      this.drain.abort();
    } else if (reason !== 'max-runtime' && !this.force.signal.aborted) {
      if (this.reason === 'max-runtime') this.reason = reason;
      this.force.abort();
      this.onForce();
    }
  }

  dispose(): void {
    for (const [sig, handler] of this.handlers) process.removeListener(sig, handler);
    this.handlers.clear();
  }
}
