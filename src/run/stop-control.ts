import type { StopReason } from '../types.js';

/** Reasons that interrupt a run from outside: files in flight get the grace period, then are aborted. */
const INTERRUPTIONS: ReadonlySet<StopReason> = new Set(['SIGINT', 'SIGTERM', 'lock-lost']);

export const isInterruption = (reason: StopReason | null) => reason !== null && INTERRUPTIONS.has(reason);

/**
 * The one owner of stopping a run. Every reason to stop is requested here: a signal (the CLI
 * passes them on), --max-runtime, a fatal failure, a lost run lock. The first request drains: no
 * more files are dispatched, and files dispatched but not yet uploading come back unstarted. After
 * an interruption the grace period starts, whenever it arrives; when it ends, or at a second
 * signal, `force` aborts the uploads still in flight. The run itself still tears down cleanly and
 * records how it ended.
 */
export class StopControl {
  /** Aborted at the first request: stop dispatching and starting uploads. */
  readonly drain = new AbortController();
  /** Aborted when the uploads in flight must stop: grace over, or a second signal. */
  readonly force = new AbortController();
  private why: StopReason | null = null;
  private graceTimer: NodeJS.Timeout | null = null;

  constructor(private readonly graceMs: number) {}

  get reason(): StopReason | null {
    return this.why;
  }

  get requested(): boolean {
    return this.drain.signal.aborted;
  }

  request(reason: StopReason): void {
    if (!this.requested) {
      this.why = reason;
      this.drain.abort();
      if (isInterruption(reason)) {
        this.graceTimer = setTimeout(() => this.forceNow(), this.graceMs);
        this.graceTimer.unref();
      }
      return;
    }
    if (reason === 'SIGINT' || reason === 'SIGTERM') {
      // A signal after a stop for another reason says how the run really ended.
      if (this.why !== 'SIGINT' && this.why !== 'SIGTERM') this.why = reason;
      this.forceNow();
    }
  }

  dispose(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
  }

  private forceNow(): void {
    this.dispose();
    if (!this.force.signal.aborted) this.force.abort();
  }
}
