const FORCED_EXIT_MS = 10_000;

export type StopReason = 'SIGINT' | 'SIGTERM' | 'max-runtime' | 'lock-lost' | 'fatal-error';

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
    } else if ((reason === 'SIGINT' || reason === 'SIGTERM') && !this.force.signal.aborted) {
      if (this.reason !== 'SIGINT' && this.reason !== 'SIGTERM') this.reason = reason;
      this.force.abort();
      this.onForce();
      // Uploads are aborted and the run winds down; if clean-up itself hangs, leave anyway.
      setTimeout(() => process.exit(reason === 'SIGTERM' ? 143 : 130), FORCED_EXIT_MS).unref();
    }
  }

  dispose(): void {
    for (const [sig, handler] of this.handlers) process.removeListener(sig, handler);
    this.handlers.clear();
  }
}
