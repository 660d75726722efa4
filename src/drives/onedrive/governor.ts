import { setTimeout as sleep } from 'node:timers/promises';
import { errorFor, VmbError } from '../../errors/vmb-error.js';
import type { TrafficReading } from '../../types.js';
import { isThrottleStatus } from './retry.js';

/**
 * One traffic governor for every Graph request of the run, in every worker thread. Graph counts
 * throttling per app per tenant (docs/graph-facts.md §5, §8), so what one thread learns holds for
 * all: the state lives in a SharedArrayBuffer made by the main thread (plain memory, no object
 * crosses threads), read and moved with Atomics.
 *
 * - **Hold.** A 429/503 holds every thread for max(Retry-After, RateLimit-Reset): no request
 *   starts until it ends. Without either, the hold doubles per throttle in a row (1 s … 60 s).
 * - **Pace.** Requests take their turn on one shared schedule by their price in resource units
 *   (RU: 1 per GET, 2 per list, create, upload, update or delete; fragment PUTs to an upload URL
 *   are not priced and only obey the hold and --bwlimit). The rate is the lowest of:
 *   - the learned rate: unlimited until the first throttle; at each throttle set to 95% of the RU
 *     the app spent from the end of the previous hold to the end of this one, per second of that
 *     span (with a fixed window that is the window's allowance over its length, since a window
 *     spent ends in a hold lasting to the next), from spans of 20 RU or more and never below
 *     10 RU a second; it grows by 1% a second while nothing is throttled (10% after a minute),
 *     so it finds the limit again, and a hold never ends in a burst at the old speed. A run starts
 *     from the pace the last run against the drive learned (kept in its run row, for a day), so
 *     a cron run does not spend its first window in one burst of every thread's requests;
 *   - the header rate: when an answer carries RateLimit-Remaining and -Reset, what remains spread
 *     evenly until the reset (a window nearly spent holds until its reset);
 *   - --max-rate.
 * - **Bytes.** --bwlimit: every request with a body reserves its bytes on a second schedule.
 *
 * A throttled request is tried again however often it is throttled ("throttling never fails a
 * file"); `retries` counts only server errors, resets and timeouts. The main thread ends a
 * throttled stretch that lasts too long (--throttle-timeout) or a block (--blocked-after) by
 * stopping the run, and `release`s the governor so waiting requests give up at once.
 */

// Slots of the shared BigInt64Array.
const HOLD_UNTIL_MS = 0;
const NEXT_START_US = 1;
/** Learned rate in milli-RU per second; 0: not learned (unlimited). */
const LEARNED_MRU = 2;
const HEADER_MRU = 3;
const HEADER_UNTIL_MS = 4;
const NEXT_BYTE_US = 5;
/** RU of every request sent, throttled ones included (Graph charges those too). */
const RU_SENT = 6;
const RU_ADMITTED = 7;
const THROTTLED = 8;
/** Time during which some hold was in force (overlapping holds counted once). */
const HELD_MS = 9;
/** Where the current learning span began: the end of the last hold, and RU_SENT then. */
const SPAN_START_MS = 10;
const SPAN_START_RU = 11;
/** First throttle of the current stretch with no success since; 0: none. */
const THROTTLED_SINCE_MS = 12;
/** First 503 of the current stretch with no success since; 0: none. */
const UNAVAILABLE_SINCE_MS = 13;
const GROWN_AT_MS = 14;
const RELEASED = 15;
/** Throttles in a row without a Retry-After (the doubling hold's exponent). */
const BARE_THROTTLES = 16;
const HOLDS = 17;
/** When the learned rate was last set (learned or seeded): how long it has held without a throttle. */
const LEARNED_AT_MS = 18;
const SLOTS = 19;

const LEARNED_SHARE = 0.95;
/**
 * A span with fewer RU says little about the budget (a stray 429, another app instance's burst),
 * and no tier is below half the smallest one (1,250 RU a minute, docs/graph-facts.md §8).
 */
const LEARN_FROM_RU = 20;
const LEARNED_FLOOR_MRU = 10_000;
/**
 * Near the limit just learned the pace creeps up (1% a second); once it has held a minute without a
 * throttle (longer than a budget window) the limit is further than that, or was never this low (a
 * burst of another client under the same app id), and it grows fast (10% a second).
 */
const GROWTH_PER_SECOND = 0.01;
const FAST_GROWTH_PER_SECOND = 0.1;
const FAST_GROWTH_AFTER_MS = 60_000;
const BARE_HOLD_BASE_MS = 1_000;
const BARE_HOLD_CAP_MS = 60_000;
/** A waiter looks at the release flag at least this often. */
const WAIT_SLICE_MS = 250;
/** A quiet moment lets this much of a schedule be caught up at once (the next turns come sooner). */
const TURN_CREDIT_US = 100_000;
const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 30_000;

export function createGovernorBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(SLOTS * BigInt64Array.BYTES_PER_ELEMENT);
}

/** What a request costs, for the schedules. */
export interface RequestPrice {
  /** Resource units; 0 for requests to an upload URL. */
  units: number;
  /** Body bytes, for --bwlimit. */
  bytes: number;
}

/** What an answer said about the budget. */
export interface BudgetSignals {
  status: number;
  retryAfterSeconds?: number;
  /** RateLimit-Remaining and RateLimit-Reset (seconds), when both came. */
  rateLimit?: { remaining: number; resetSeconds: number };
}

export interface GovernorLimits {
  /** --max-rate in RU per minute; 0: none. */
  maxRatePerMinute: number;
  /** --bwlimit in bytes per second; 0: none. */
  bytesPerSecond: number;
}

export interface GovernorOptions extends GovernorLimits {
  /** Retries allowed per request after the first try, for failures other than throttling. */
  retries: number;
  random?: () => number;
  now?: () => number;
}

const NO_LIMITS: GovernorLimits = { maxRatePerMinute: 0, bytesPerSecond: 0 };

export class Governor {
  private readonly slots: BigInt64Array;
  private readonly o: Required<GovernorOptions>;

  constructor(buffer: SharedArrayBuffer, options: GovernorOptions) {
    if (buffer.byteLength < SLOTS * BigInt64Array.BYTES_PER_ELEMENT) {
      throw new VmbError('fatal', 'config-invalid', 'governorBuffer is too small; create it with createGovernorBuffer()');
    }
    this.slots = new BigInt64Array(buffer, 0, SLOTS);
    this.o = { random: Math.random, now: Date.now, ...options };
  }

  /** The main thread's view, for the monitor and the summary (no retries, no limits). */
  static reader(buffer: SharedArrayBuffer): Governor {
    return new Governor(buffer, { retries: 0, ...NO_LIMITS });
  }

  /** Epoch ms before which no request may start. */
  heldUntil(): number {
    return this.load(HOLD_UNTIL_MS);
  }

  /** Pushes the shared hold to `until` unless it is already further; counts the time held. */
  holdUntil(until: number): void {
    const wanted = Math.ceil(until);
    const now = this.o.now();
    for (;;) {
      const current = this.load(HOLD_UNTIL_MS);
      if (current >= wanted) return;
      if (this.cas(HOLD_UNTIL_MS, current, wanted)) {
        this.add(HELD_MS, wanted - Math.max(current, now));
        if (current <= now) this.add(HOLDS, 1);
        return;
      }
    }
  }

  /** An earlier run's learned pace (RU per minute), kept unless something is learned already. */
  seed(ratePerMinute: number): void {
    const mru = Math.max(LEARNED_FLOOR_MRU, Math.floor((ratePerMinute / 60) * 1000));
    if (this.cas(LEARNED_MRU, 0, mru)) {
      this.store(GROWN_AT_MS, this.o.now());
      this.store(LEARNED_AT_MS, this.o.now());
    }
  }

  /** Waiting requests give up (the run is stopping); later ones fail at once. */
  release(): void {
    Atomics.store(this.slots, RELEASED, 1n);
  }

  /** RU per second the pace allows now; Infinity when nothing limits it. */
  rate(now = this.o.now()): number {
    let rate = Infinity;
    const learned = this.load(LEARNED_MRU);
    if (learned > 0) rate = learned / 1000;
    if (this.load(HEADER_UNTIL_MS) > now) {
      const header = this.load(HEADER_MRU);
      if (header > 0) rate = Math.min(rate, header / 1000);
    }
    if (this.o.maxRatePerMinute > 0) rate = Math.min(rate, this.o.maxRatePerMinute / 60);
    return rate;
  }

  /**
   * Resolves when a request of `price` may start: after any hold, at its turn on the schedules.
   * Throws `aborted` when `signal` aborts or the governor is released.
   */
  async admit(price: RequestPrice, signal?: AbortSignal): Promise<void> {
    await this.waitUntil(() => this.heldUntil(), signal);
    await this.takeTurn(NEXT_START_US, price.units, () => this.rate(), signal);
    await this.takeTurn(NEXT_BYTE_US, price.bytes, () => this.o.bytesPerSecond || Infinity, signal);
    this.add(RU_SENT, price.units);
    // The first request opens the first learning span.
    this.startOnce(SPAN_START_MS, this.o.now());
  }

  /** What an answer says: a success ends a throttled stretch and lets the pace grow; a throttle holds everyone. */
  observe(price: RequestPrice, answer: BudgetSignals): void {
    const now = this.o.now();
    const { rateLimit } = answer;
    if (rateLimit) this.paceToReset(rateLimit, now);
    if (isThrottleStatus(answer.status)) {
      this.throttled(answer, now);
      return;
    }
    if (answer.status >= 200 && answer.status < 400) {
      this.add(RU_ADMITTED, price.units);
      for (const slot of [THROTTLED_SINCE_MS, UNAVAILABLE_SINCE_MS, BARE_THROTTLES]) this.clear(slot);
      this.grow(now);
    }
  }

  /** Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): uniform in [0, cap). */
  backoffMs(retry: number): number {
    return this.o.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** retry);
  }

  /**
   * Runs `attempt` until it succeeds or throws something other than a retryable `VmbError`.
   * Throttled tries wait for the hold (`attempt`'s request set it) and never count; other
   * retryable failures back off this request alone, within `retries`.
   */
  async run<T>(attempt: (retry: number) => Promise<T>, options: { signal?: AbortSignal; onRetry?: (err: VmbError) => void } = {}): Promise<T> {
    for (let retry = 0; ; ) {
      try {
        return await attempt(retry);
      } catch (err) {
        if (!(err instanceof VmbError) || err.kind !== 'retryable' || options.signal?.aborted) throw err;
        if (err.code === 'throttled') continue;
        if (retry >= this.o.retries) {
          throw errorFor(err.code, `${err.message} (gave up after ${retry} ${retry === 1 ? 'retry' : 'retries'})`, { cause: err });
        }
        options.onRetry?.(err);
        await sleep(this.backoffMs(retry), undefined, { signal: options.signal });
        retry++;
      }
    }
  }

  read(): TrafficReading {
    const since = (slot: number) => this.load(slot) || null;
    return {
      throttledRequests: this.load(THROTTLED),
      heldMs: Math.max(0, this.load(HELD_MS) - Math.max(0, this.heldUntil() - this.o.now())),
      holdUntil: this.heldUntil(),
      holds: this.load(HOLDS),
      resourceUnitsAdmitted: this.load(RU_ADMITTED),
      learnedRatePerMinute: (this.load(LEARNED_MRU) / 1000) * 60,
      throttledSince: since(THROTTLED_SINCE_MS),
      unavailableSince: since(UNAVAILABLE_SINCE_MS),
    };
  }

  private throttled(answer: BudgetSignals, now: number): void {
    this.add(THROTTLED, 1);
    this.startOnce(THROTTLED_SINCE_MS, now);
    if (answer.status === 503) this.startOnce(UNAVAILABLE_SINCE_MS, now);
    const waits = [answer.retryAfterSeconds, answer.rateLimit?.resetSeconds].filter((s): s is number => s !== undefined).map((s) => s * 1000);
    let holdMs: number;
    if (waits.length > 0) holdMs = Math.max(...waits);
    else {
      const bare = this.add(BARE_THROTTLES, 1);
      holdMs = Math.min(BARE_HOLD_CAP_MS, BARE_HOLD_BASE_MS * 2 ** (bare - 1));
    }
    const until = now + holdMs;
    this.learn(now, until);
    this.holdUntil(until);
  }

  /** The learned rate: RU sent from the span's start until the new hold ends, per second, times LEARNED_SHARE. */
  private learn(now: number, holdEnd: number): void {
    const spanStart = this.load(SPAN_START_MS);
    // A throttle of the same hold has already learned (its span starts ahead): the others in
    // flight with it add nothing new.
    if (spanStart === 0 || spanStart > now || !this.cas(SPAN_START_MS, spanStart, holdEnd)) return;
    const sent = this.load(RU_SENT);
    const ru = sent - this.load(SPAN_START_RU);
    this.store(SPAN_START_RU, sent);
    this.store(GROWN_AT_MS, holdEnd);
    this.store(LEARNED_AT_MS, holdEnd);
    if (ru >= LEARN_FROM_RU) this.store(LEARNED_MRU, Math.max(LEARNED_FLOOR_MRU, Math.floor(((LEARNED_SHARE * ru) / (holdEnd - spanStart)) * 1_000_000)));
  }

  private grow(now: number): void {
    const learned = this.load(LEARNED_MRU);
    const grownAt = this.load(GROWN_AT_MS);
    if (learned === 0 || now - grownAt < 1000 || now <= this.heldUntil()) return;
    if (!this.cas(GROWN_AT_MS, grownAt, now)) return;
    const growth = now - this.load(LEARNED_AT_MS) >= FAST_GROWTH_AFTER_MS ? FAST_GROWTH_PER_SECOND : GROWTH_PER_SECOND;
    const factor = (1 + growth) ** ((now - grownAt) / 1000);
    this.cas(LEARNED_MRU, learned, Math.ceil(learned * factor));
  }

  private paceToReset({ remaining, resetSeconds }: NonNullable<BudgetSignals['rateLimit']>, now: number): void {
    const seconds = Math.max(1, resetSeconds);
    const until = now + seconds * 1000;
    // What is left of the window, spread until its reset; nearly nothing left: wait for the reset,
    // and learn from the window as from a throttle, so the next one starts at the pace, not in a burst.
    if (remaining < 2) {
      this.learn(now, until);
      this.holdUntil(until);
      return;
    }
    this.store(HEADER_MRU, Math.floor((remaining / seconds) * 1000));
    this.store(HEADER_UNTIL_MS, until);
  }

  /**
   * Waits for this request's turn on a schedule: the slot holds when the next request may start
   * (epoch µs); the one that starts moves it on by `amount` at the rate of that moment. Waiters
   * reserve nothing ahead, so a rate that rises (a window's reset, a header gone) applies at once,
   * and so does a hold that begins while they wait.
   */
  private async takeTurn(slot: number, amount: number, perSecond: () => number, signal?: AbortSignal): Promise<void> {
    if (amount <= 0) return;
    for (;;) {
      const rate = perSecond();
      if (!Number.isFinite(rate)) return;
      const nowUs = this.o.now() * 1000;
      const next = this.load(slot);
      if (next <= nowUs && this.heldUntil() <= this.o.now()) {
        if (this.cas(slot, next, Math.ceil(Math.max(next, nowUs - TURN_CREDIT_US) + (amount / rate) * 1_000_000))) return;
        continue;
      }
      await this.waitUntil(() => Math.max(next / 1000, this.heldUntil()), signal);
    }
  }

  private async waitUntil(when: () => number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      if (Atomics.load(this.slots, RELEASED) !== 0n) throw new VmbError('retryable', 'aborted', 'the run is stopping: no more requests start');
      const wait = when() - this.o.now();
      if (wait <= 0) return;
      await sleep(Math.min(wait, WAIT_SLICE_MS), undefined, { signal });
    }
  }

  private load(slot: number): number {
    return Number(Atomics.load(this.slots, slot));
  }

  private store(slot: number, value: number): void {
    Atomics.store(this.slots, slot, BigInt(value));
  }

  private cas(slot: number, expected: number, value: number): boolean {
    return Atomics.compareExchange(this.slots, slot, BigInt(expected), BigInt(value)) === BigInt(expected);
  }

  private add(slot: number, value: number): number {
    return Number(Atomics.add(this.slots, slot, BigInt(value))) + value;
  }

  private startOnce(slot: number, now: number): void {
    if (this.load(slot) === 0) this.cas(slot, 0, now);
  }

  /** Zeroes a slot, reading first: every success passes here, and a read does not contend like a write. */
  private clear(slot: number): void {
    if (this.load(slot) !== 0) this.store(slot, 0);
  }
}
