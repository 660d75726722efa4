import { setTimeout as sleep } from 'node:timers/promises';
import { errorFor, VmbError } from '../../errors/vmb-error.js';

/**
 * Throttling is counted per app per tenant, so a Retry-After seen by one worker thread holds back
 * every thread: they share one 64-bit slot (epoch ms) in a SharedArrayBuffer made by the main
 * thread. The slot only moves forward, so a short Retry-After never cancels a longer one.
 * Backoff for server errors and resets stays per request: one failing request says nothing
 * about the others.
 */

const HOLD_SLOT = 0;
const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 30_000;

export function createPacerBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(BigInt64Array.BYTES_PER_ELEMENT);
}

export interface PacerOptions {
  /** Retries allowed per request after the first try. */
  retries: number;
  random?: () => number;
}

export class Pacer {
  private readonly slot: BigInt64Array;
  private readonly retries: number;
  private readonly random: () => number;

  constructor(buffer: SharedArrayBuffer, options: PacerOptions) {
    if (buffer.byteLength < BigInt64Array.BYTES_PER_ELEMENT) {
      throw new VmbError('fatal', 'config-invalid', 'pacerBuffer is too small; create it with createPacerBuffer()');
    }
    this.slot = new BigInt64Array(buffer, 0, 1);
    this.retries = options.retries;
    this.random = options.random ?? Math.random;
  }

  /** Epoch ms before which no request may be sent. */
  heldUntil(): number {
    return Number(Atomics.load(this.slot, HOLD_SLOT));
  }

  /** Pushes the shared hold to `until` unless another thread already pushed it further. */
  holdUntil(until: number): void {
    const wanted = BigInt(Math.ceil(until));
    for (;;) {
      const current = Atomics.load(this.slot, HOLD_SLOT);
      if (current >= wanted) return;
      if (Atomics.compareExchange(this.slot, HOLD_SLOT, current, wanted) === current) return;
    }
  }

  /** Resolves once the shared hold has passed; re-checks after sleeping since others may extend it. */
  async ready(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const wait = this.heldUntil() - Date.now();
      if (wait <= 0) return;
      await sleep(wait, undefined, { signal });
    }
  }

  /** Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): uniform in [0, cap). */
  backoffMs(retry: number): number {
    return this.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** retry);
  }

  /**
   * Runs `attempt` until it succeeds, throws something other than a retryable `VmbError`, or
   * the retry budget is spent. A `retryAfterSeconds` on the error holds every thread; otherwise
   * only this request backs off.
   */
  async run<T>(attempt: (retry: number) => Promise<T>, options: { signal?: AbortSignal; onRetry?: (err: VmbError) => void } = {}): Promise<T> {
    for (let retry = 0; ; retry++) {
      try {
        return await attempt(retry);
      } catch (err) {
        if (!(err instanceof VmbError) || err.kind !== 'retryable' || options.signal?.aborted) throw err;
        if (retry >= this.retries) {
          throw errorFor(err.code, `${err.message} (gave up after ${retry} ${retry === 1 ? 'retry' : 'retries'})`, { cause: err });
        }
        options.onRetry?.(err);
        if (err.retryAfterSeconds !== undefined) this.holdUntil(Date.now() + err.retryAfterSeconds * 1000);
        else await sleep(this.backoffMs(retry), undefined, { signal: options.signal });
      }
    }
  }
}
