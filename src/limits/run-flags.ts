/**
 * The run's stop state, shared by the main thread and every worker thread in one Int32 of shared
 * memory (plain memory, not a message): a thread that starts after the run began stopping, or a
 * task a thread takes from Piscina's queue later, still sees it. A BroadcastChannel message would
 * reach only the threads already listening when it was sent.
 */
const STATE = 0;
// 0: running.
const DRAINING = 1;
const HALTING = 2;
const ABORTING = 3;

export function createRunFlagsBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
}

export class RunFlags {
  private readonly state: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.state = new Int32Array(buffer, 0, 1);
  }

  /** No upload that has not begun is begun: files dispatched but not started go back unstarted. */
  get draining(): boolean {
    return Atomics.load(this.state, STATE) >= DRAINING;
  }

  /**
   * The run's hard bound is reached: uploads in flight stop where they can be continued from (a
   * session upload after the fragment it is sending, its session kept), or are aborted.
   */
  get halting(): boolean {
    return Atomics.load(this.state, STATE) >= HALTING;
  }

  /** Uploads in flight are aborted at once, fragments cut. */
  get aborting(): boolean {
    return Atomics.load(this.state, STATE) >= ABORTING;
  }

  drain(): void {
    this.raise(DRAINING);
  }

  halt(): void {
    this.raise(HALTING);
  }

  abort(): void {
    this.raise(ABORTING);
  }

  /** The state only moves forward. */
  private raise(to: number): void {
    for (;;) {
      const now = Atomics.load(this.state, STATE);
      if (now >= to || Atomics.compareExchange(this.state, STATE, now, to) === now) return;
    }
  }
}
