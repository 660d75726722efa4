import type { StopReason } from '../types.js';

/** Reasons that interrupt a run from outside: files in flight get the grace period, then are halted. */
const INTERRUPTIONS: ReadonlySet<StopReason> = new Set(['SIGINT', 'SIGTERM', 'lock-lost']);

export const isInterruption = (reason: StopReason | null) => reason !== null && INTERRUPTIONS.has(reason);

/** Reasons that are the run's hard bound themselves: uploads in flight are halted at once. */
const BOUNDS: ReadonlySet<StopReason> = new Set(['max-runtime', 'throttle-timeout', 'graph-blocked']);

/**
 * The one owner of stopping a run. Every reason to stop is requested here: a signal (the CLI
 * passes them on), --max-runtime, a fatal failure, a lost run lock, the drive's throttling
 * (--throttle-timeout, a blocked app). The first request drains: no
 * more files are dispatched, and files dispatched but not yet uploading come back unstarted.
 *
 * The run has a hard bound: --max-runtime (and --throttle-timeout, a blocked app), and the end of the grace period that starts when an
 * interruption arrives (whenever it arrives). At the bound `halt` stops the uploads in flight
 * where a later run can continue them: a session upload after the fragment it is sending, its
 * session kept; a simple upload is aborted. So the run ends within the bound plus one fragment's
 * time. A second signal `force`s: every upload is aborted at once, fragments cut. The run itself
 * still tears down cleanly and records how it ended.
 */
export class StopControl {
  /** Aborted at the first request: stop dispatching and starting uploads. */
  readonly drain = new AbortController();
  /** Aborted at the bound: uploads in flight stop after their current fragment. */
  readonly halt = new AbortController();
  /** Aborted at a second signal: uploads in flight are cut at once. */
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
      if (BOUNDS.has(reason)) this.haltNow();
      else if (isInterruption(reason)) {
        this.graceTimer = setTimeout(() => this.haltNow(), this.graceMs);
        this.graceTimer.unref();
      }
      return;
    }
    if (reason === 'SIGINT' || reason === 'SIGTERM') {
      // A signal after a stop for another reason says how the run really ended.
      if (this.why !== 'SIGINT' && this.why !== 'SIGTERM') this.why = reason;
      this.forceNow();
    } else if (BOUNDS.has(reason)) {
      // A bound holds even while an interruption's grace is running.
      this.haltNow();
    }
  }

  dispose(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
  }

  private haltNow(): void {
    this.dispose();
    if (!this.halt.signal.aborted) this.halt.abort();
  }

  private forceNow(): void {
    this.haltNow();
    if (!this.force.signal.aborted) this.force.abort();
  }
}
