/**
 * The app's throttling budget, modelled on SharePoint Online's limits per app per tenant
 * (https://learn.microsoft.com/en-us/sharepoint/dev/general-development/how-to-avoid-getting-throttled-or-blocked-in-sharepoint-online ,
 * https://learn.microsoft.com/en-us/graph/throttling):
 *
 * - Every request costs resource units (see resource-units.ts). The budget allows `units` RU per
 *   `windowMs` (the per-minute limit), optionally also `dailyUnits` per `dailyWindowMs` (the daily
 *   cap). Windows are fixed, aligned to the moment the budget was configured.
 * - "Throttled requests count against the limit", so a refused request is charged too. What a
 *   window used beyond its allowance is carried into the next window as debt, so an app that keeps
 *   sending while told to wait digs itself deeper; each window that passes pays back `units`.
 *   Requests costing 0 RU (fragments, by default) are never refused for the budget.
 * - A refused request gets 429 activityLimitReached with `Retry-After`: the whole seconds until a
 *   request of the same cost fits again, debt included. Real services sometimes send none
 *   (onedrive-api-docs#797), hence `omitRetryAfterEvery`.
 * - From 80% of the per-minute window used, answers carry `RateLimit-Limit`, `RateLimit-Remaining`
 *   and `RateLimit-Reset` (seconds to the window's end). Real tenants send them best effort only.
 * - "Persistent abusers get blocked": once a stretch of overuse has lasted `blockAfterMs` (the
 *   time from the stretch's first refusal, a stretch lasting as long as some refused request would
 *   not yet fit), every request gets 503 serviceNotAvailable for `blockForMs`. The figures are not
 *   published; they are options.
 *
 * Prices are counted even while the budget is off, so a benchmark can tell what a run would cost.
 */
import type { Clock } from './context.js';
import { GraphError } from './graph-error.js';
import { unitsFor } from './resource-units.js';
import type { RequestKind, UploadUrlPrices } from './resource-units.js';

export interface BudgetOptions {
  /** RU allowed per window, e.g. 1,250 for a tenant of up to 1,000 licences. */
  units: number;
  /** Length of a window; default 60,000 (one minute). */
  windowMs?: number;
  /** A second, longer budget like the daily cap (e.g. 1,200,000); 0 (default) means none. */
  dailyUnits?: number;
  /** Length of the second window; default 86,400,000 (a day). */
  dailyWindowMs?: number;
  /** RU per fragment PUT to an upload URL (also the deferCommit POST); default 0, as it is undocumented. */
  fragmentUnits?: number;
  /** RU per DELETE of an upload URL; default 0. */
  uploadUrlDeleteUnits?: number;
  /** Send RateLimit-* headers from 80% of the window used; default true. */
  rateLimitHeaders?: boolean;
  /** Every Nth throttled answer has no Retry-After; 0 (default) means every one has it. */
  omitRetryAfterEvery?: number;
  /** Block the app once a stretch of overuse has lasted this long; 0 (default) never blocks. */
  blockAfterMs?: number;
  /** How long a block lasts (also the default for `block()`); default 300,000. */
  blockForMs?: number;
}

export type BudgetConfig = Required<BudgetOptions>;

export interface KindStats {
  requests: number;
  units: number;
}

/** What the budget saw; times are the emulator clock's (ms since the epoch). */
export interface BudgetStats {
  /** The budget in force, or null when off. */
  config: BudgetConfig | null;
  /** RU charged for requests that were let through. */
  unitsAdmitted: number;
  /** RU charged for requests refused with 429. */
  unitsThrottled: number;
  admitted: number;
  throttled: number;
  /** Requests answered 503 because the app was blocked (not charged). */
  blocked: number;
  /** Times a block began (by overuse or by `block()`). */
  blocks: number;
  throttledWithoutRetryAfter: number;
  /** Answers that carried RateLimit-* headers. */
  withRateLimitHeaders: number;
  /** Time so far during which some refused request would not have fitted (overlaps counted once). */
  overBudgetMs: number;
  /** RU used in the current window, debt carried in included; 0 when off. */
  windowUnitsUsed: number;
  dailyUnitsUsed: number;
  /** When the current block ends, or null when not blocked. */
  blockedUntil: number | null;
  /** Charged and blocked requests, by the clock, or null before the first. */
  firstRequestAt: number | null;
  lastRequestAt: number | null;
  /** Requests and RU by kind of request (blocked ones not included). */
  byKind: Partial<Record<RequestKind, KindStats>>;
}

export interface BudgetControls {
  /** Starts a fresh budget (windows aligned to now, no debt); counters are kept. */
  configure(options: BudgetOptions): void;
  /** No budget from now on (prices are still counted); lifts a block. Counters are kept. */
  off(): void;
  /** Blocks the app now: every request gets 503 for `forMs` (default blockForMs) or until `unblock()`. */
  block(forMs?: number): void;
  unblock(): void;
  /** A snapshot of the counters. */
  stats(): BudgetStats;
  /** Off, unblocked, counters zeroed. */
  reset(): void;
}

/** How the server answers a request, decided when its headers arrive. */
export interface BudgetVerdict {
  /** Set when the request must be refused with this answer. */
  refusal?: GraphError;
  /** Headers every answer to this request carries (RateLimit-*). */
  headers?: Record<string, string>;
}

const DEFAULTS = {
  windowMs: 60_000,
  dailyUnits: 0,
  dailyWindowMs: 86_400_000,
  fragmentUnits: 0,
  uploadUrlDeleteUnits: 0,
  rateLimitHeaders: true,
  omitRetryAfterEvery: 0,
  blockAfterMs: 0,
  blockForMs: 300_000,
};

/** "RateLimit headers appear at 80%" of the per-minute limit. */
const RATE_LIMIT_HEADERS_FROM = 0.8;
const ADMITTED: BudgetVerdict = Object.freeze({});

const wholeSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/** One fixed window of `units` RU per `ms`, carrying overuse into the next as debt. */
class FixedWindow {
  used = 0;
  constructor(
    readonly units: number,
    readonly ms: number,
    private start: number,
  ) {}

  /** Moves to the window holding `at`; each window that ended paid back `units` of the debt. */
  advance(at: number): void {
    if (at < this.start + this.ms) return;
    const passed = Math.floor((at - this.start) / this.ms);
    this.used = Math.max(0, this.used - passed * this.units);
    this.start += passed * this.ms;
  }

  fits(cost: number): boolean {
    return this.used + cost <= this.units;
  }

  /** Milliseconds from `at` until a request of `cost` fits; 0 when it fits now. */
  waitMs(at: number, cost: number): number {
    if (this.fits(cost)) return 0;
    const windows = Math.ceil((this.used + cost - this.units) / this.units);
    return this.start + windows * this.ms - at;
  }

  msToEnd(at: number): number {
    return this.start + this.ms - at;
  }

  /** What `used` will be at `at`, without moving. */
  usedAt(at: number): number {
    if (at < this.start + this.ms) return this.used;
    return Math.max(0, this.used - Math.floor((at - this.start) / this.ms) * this.units);
  }
}

const zeroStats = (): Omit<BudgetStats, 'config' | 'windowUnitsUsed' | 'dailyUnitsUsed' | 'blockedUntil' | 'overBudgetMs'> => ({
  unitsAdmitted: 0,
  unitsThrottled: 0,
  admitted: 0,
  throttled: 0,
  blocked: 0,
  blocks: 0,
  throttledWithoutRetryAfter: 0,
  withRateLimitHeaders: 0,
  firstRequestAt: null,
  lastRequestAt: null,
  byKind: {},
});

export class Budget implements BudgetControls {
  private readonly clock: Clock;
  private config: BudgetConfig | undefined;
  private prices: UploadUrlPrices = DEFAULTS;
  private window: FixedWindow | undefined;
  private daily: FixedWindow | undefined;
  private blockedUntil = 0;
  private counts = zeroStats();
  /** The union of the spans from each refusal until its request would fit. */
  private overBudgetMs = 0;
  private overUntil = Number.NEGATIVE_INFINITY;
  /** When the current stretch of overuse began; undefined when none is running (or a block ended it). */
  private stretchStart: number | undefined;
  private throttledAnswers = 0;

  constructor(clock: Clock, options?: BudgetOptions) {
    this.clock = clock;
    if (options !== undefined) this.configure(options);
  }

  configure(options: BudgetOptions): void {
    const config = { units: options.units, ...DEFAULTS, ...definedOnly(options) } as BudgetConfig;
    checkConfig(config);
    const at = this.clock();
    this.config = config;
    this.prices = config;
    this.window = new FixedWindow(config.units, config.windowMs, at);
    this.daily = config.dailyUnits > 0 ? new FixedWindow(config.dailyUnits, config.dailyWindowMs, at) : undefined;
    this.overUntil = Number.NEGATIVE_INFINITY;
    this.stretchStart = undefined;
    this.throttledAnswers = 0;
  }

  off(): void {
    this.config = undefined;
    this.prices = DEFAULTS;
    this.window = undefined;
    this.daily = undefined;
    this.blockedUntil = 0;
    this.stretchStart = undefined;
  }

  block(forMs?: number): void {
    const ms = forMs ?? this.config?.blockForMs ?? DEFAULTS.blockForMs;
    if (!(ms > 0)) throw new RangeError('block: forMs must be positive');
    this.startBlock(this.clock(), ms);
  }

  unblock(): void {
    this.blockedUntil = 0;
  }

  reset(): void {
    this.off();
    this.counts = zeroStats();
    this.overBudgetMs = 0;
    this.overUntil = Number.NEGATIVE_INFINITY;
  }

  stats(): BudgetStats {
    const at = this.clock();
    const byKind: BudgetStats['byKind'] = {};
    for (const [kind, s] of Object.entries(this.counts.byKind)) byKind[kind as RequestKind] = { ...s };
    return {
      ...this.counts,
      byKind,
      config: this.config === undefined ? null : { ...this.config },
      // The part of the last span still ahead has not been spent yet.
      overBudgetMs: this.overBudgetMs - Math.max(0, this.overUntil - at),
      windowUnitsUsed: this.window?.usedAt(at) ?? 0,
      dailyUnitsUsed: this.daily?.usedAt(at) ?? 0,
      blockedUntil: this.blockedUntil > at ? this.blockedUntil : null,
    };
  }

  /** Charges one request of `kind` and says how it is to be answered. */
  charge(kind: RequestKind): BudgetVerdict {
    const at = this.clock();
    const counts = this.counts;
    counts.firstRequestAt ??= at;
    counts.lastRequestAt = at;
    if (this.blockedUntil > at) {
      counts.blocked++;
      return {
        refusal: new GraphError(503, 'serviceNotAvailable', 'The app has been blocked for sustained overuse of its resource units.', {
          headers: { 'retry-after': String(wholeSeconds(this.blockedUntil - at)) },
        }),
      };
    }

    const cost = unitsFor(kind, this.prices);
    const byKind = (counts.byKind[kind] ??= { requests: 0, units: 0 });
    byKind.requests++;
    byKind.units += cost;
    const { config, window, daily } = this;
    if (config === undefined || window === undefined) {
      counts.admitted++;
      counts.unitsAdmitted += cost;
      return ADMITTED;
    }

    window.advance(at);
    daily?.advance(at);
    const fits = cost === 0 || (window.fits(cost) && (daily === undefined || daily.fits(cost)));
    window.used += cost;
    if (daily !== undefined) daily.used += cost;
    const headers = this.rateLimitHeaders(config, window, at);
    if (fits) {
      counts.admitted++;
      counts.unitsAdmitted += cost;
      return headers === undefined ? ADMITTED : { headers };
    }

    counts.throttled++;
    counts.unitsThrottled += cost;
    const waitMs = Math.max(window.waitMs(at, cost), daily?.waitMs(at, cost) ?? 0);
    this.noteOveruse(at, at + waitMs);
    const refusalHeaders: Record<string, string> = { ...headers };
    const every = config.omitRetryAfterEvery;
    if (every > 0 && ++this.throttledAnswers % every === 0) counts.throttledWithoutRetryAfter++;
    else refusalHeaders['retry-after'] = String(wholeSeconds(waitMs));
    if (config.blockAfterMs > 0 && this.stretchStart !== undefined && at - this.stretchStart >= config.blockAfterMs) {
      // This request still gets the 429 it earned; the block starts with the next one.
      this.startBlock(at, config.blockForMs);
    }
    return {
      headers,
      refusal: new GraphError(429, 'activityLimitReached', "The app's resource unit budget is spent; retry after the time given.", {
        headers: refusalHeaders,
      }),
    };
  }

  private rateLimitHeaders(config: BudgetConfig, window: FixedWindow, at: number): Record<string, string> | undefined {
    if (!config.rateLimitHeaders || window.used < RATE_LIMIT_HEADERS_FROM * window.units) return undefined;
    this.counts.withRateLimitHeaders++;
    return {
      'ratelimit-limit': String(window.units),
      'ratelimit-remaining': String(Math.max(0, window.units - window.used)),
      'ratelimit-reset': String(wholeSeconds(window.msToEnd(at))),
    };
  }

  private noteOveruse(at: number, until: number): void {
    if (at >= this.overUntil || this.stretchStart === undefined) this.stretchStart = at;
    if (at >= this.overUntil) {
      this.overBudgetMs += until - at;
      this.overUntil = until;
    } else if (until > this.overUntil) {
      this.overBudgetMs += until - this.overUntil;
      this.overUntil = until;
    }
  }

  private startBlock(at: number, ms: number): void {
    this.blockedUntil = at + ms;
    this.counts.blocks++;
    // Overuse after the block is a new stretch: an unblocked app is not blocked again at once.
    this.stretchStart = undefined;
  }
}

function definedOnly(options: BudgetOptions): Partial<BudgetOptions> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<BudgetOptions>;
}

function checkConfig(config: BudgetConfig): void {
  const positive = ['units', 'windowMs', 'dailyWindowMs', 'blockForMs'] as const;
  const nonNegative = ['dailyUnits', 'fragmentUnits', 'uploadUrlDeleteUnits', 'omitRetryAfterEvery', 'blockAfterMs'] as const;
  for (const key of positive) {
    if (!Number.isSafeInteger(config[key]) || config[key] <= 0) throw new RangeError(`budget: ${key} must be a positive integer, not ${config[key]}`);
  }
  for (const key of nonNegative) {
    if (!Number.isSafeInteger(config[key]) || config[key] < 0) throw new RangeError(`budget: ${key} must be a non-negative integer, not ${config[key]}`);
  }
  if (typeof config.rateLimitHeaders !== 'boolean') throw new RangeError('budget: rateLimitHeaders must be a boolean');
  if (config.dailyUnits > 0 && config.dailyWindowMs <= config.windowMs) throw new RangeError('budget: dailyWindowMs must be longer than windowMs');
}
