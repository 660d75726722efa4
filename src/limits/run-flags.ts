/**
 * The run's stop state, shared by the main thread and every worker thread in one Int32 of shared
 * memory (plain memory, not a message): a thread that starts after the run began stopping, or a
 * task a thread takes from Piscina's queue later, still sees it. A BroadcastChannel message would
 * reach only the threads already listening when it was sent.
 */
const STATE = 0;
const RUNNING = 0;
const DRAINING = 1;
const ABORTING = 2;

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

  /** Uploads in flight are aborted too. */
  get aborting(): boolean {
    return Atomics.load(this.state, STATE) >= ABORTING;
  }

  drain(): void {
    Atomics.compareExchange(this.state, STATE, RUNNING, DRAINING);
  }

  abort(): void {
    Atomics.store(this.state, STATE, ABORTING);
  }
}
