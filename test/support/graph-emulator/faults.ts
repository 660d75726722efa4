/**
 * Fault injection, armed by tests at run time through `emulator.faults`. Armed faults form one
 * queue in the order they were armed; each request takes the first one whose `match` accepts it,
 * decided when the request's headers arrive (so the order of requests, not of their bodies, counts).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { UploadSessionInfo } from './upload-sessions.js';

/** What a `match` predicate sees of a request. */
export interface FaultRequest {
  method: string;
  /** Path without the query, e.g. `/v1.0/drives/d/items/X/children` or `/upload/sessions/S`. */
  path: string;
  query: Readonly<Record<string, string>>;
  headers: IncomingHttpHeaders;
  /** True for requests to an upload URL (chunk PUTs, status GETs, DELETEs). */
  toUploadUrl: boolean;
}

export type FaultMatch = (req: FaultRequest) => boolean;

export interface ThrottleOptions {
  count: number;
  retryAfterSeconds: number;
  status?: 429 | 503;
  match?: FaultMatch;
}

export interface FailOptions {
  count: number;
  status: 500 | 502 | 503 | 504;
  match?: FaultMatch;
}

export interface DropOptions {
  count: number;
  /** Body bytes to read before destroying the socket; 0 (default) drops as soon as headers arrive. */
  afterBytes?: number;
  match?: FaultMatch;
}

export interface StallOptions {
  count: number;
  match?: FaultMatch;
}

/** What the faults did so far; live, reset by `reset()`. */
export interface FaultCounts {
  throttled: number;
  failed: number;
  dropped: number;
  stalled: number;
  /** Requests refused with 429 because `maxConcurrent` requests were already in progress. */
  overConcurrency: number;
  /** Sessions that `expireSessions()` killed. */
  sessionsExpired: number;
  /** Requests answered 404 because their session had expired (by `expireSessions()` or by lifetime). */
  expiredSessionHits: number;
  /** Sessions that `denySessions()` turned to 403. */
  sessionsDenied: number;
  /** Requests answered 403 accessDenied by a denied session. */
  deniedSessionHits: number;
  /** Requests answered 401 expiredToken because the upload URL's token outlived `sessionTokenLifetimeMs`. */
  expiredTokenHits: number;
}

export interface FaultControls {
  /** Added to every request before it is handled (or refused), in ms. */
  latencyMs: number;
  /** Requests in progress beyond this get 429 with `Retry-After: 1`; 0 means no cap. */
  maxConcurrent: number;
  /** Lifetime of an upload session, extended by every accepted chunk, in ms. */
  sessionLifetimeMs: number;
  /**
   * Age at which an upload URL's token dies whatever the progress (401 expiredToken), in ms from
   * the session's creation; 0 means never. Applies to sessions already open too.
   */
  sessionTokenLifetimeMs: number;
  /** The next `count` matching requests get `status` (default 429) with `Retry-After`. */
  throttle(options: ThrottleOptions): void;
  /** The next `count` matching requests get `status`, without `Retry-After`. */
  failNext(options: FailOptions): void;
  /** The next `count` matching requests lose their connection without an answer. */
  dropConnection(options: DropOptions): void;
  /** The next `count` matching requests are read but never answered (for client timeouts). */
  stall(options: StallOptions): void;
  /** Every upload session open now answers 404 from now on. */
  expireSessions(): void;
  /** The upload sessions open now that `match` accepts (default: all) answer 403 accessDenied from now on. */
  denySessions(match?: (session: UploadSessionInfo) => boolean): void;
  /** Armed faults that have not fired yet (sum of remaining counts). */
  pending(): number;
  readonly counts: FaultCounts;
  /** Disarms everything, zeroes the counts and restores latency, cap and session and token lifetimes. */
  reset(): void;
}

export type FaultAction =
  | { kind: 'throttle'; status: 429 | 503; retryAfterSeconds: number }
  | { kind: 'fail'; status: number }
  | { kind: 'drop'; afterBytes: number }
  | { kind: 'stall' };

interface ArmedFault {
  action: FaultAction;
  remaining: number;
  match: FaultMatch | undefined;
}

const zeroCounts = (): FaultCounts => ({
  throttled: 0,
  failed: 0,
  dropped: 0,
  stalled: 0,
  overConcurrency: 0,
  sessionsExpired: 0,
  expiredSessionHits: 0,
  sessionsDenied: 0,
  deniedSessionHits: 0,
  expiredTokenHits: 0,
});

/** The session operations faults act on. */
export interface SessionFaultTarget {
  expireAll(): number;
  deny(match: (session: UploadSessionInfo) => boolean, tokenLifetimeMs: number): number;
}

export interface SessionDefaults {
  sessionLifetimeMs: number;
  sessionTokenLifetimeMs: number;
}

export class Faults implements FaultControls {
  latencyMs = 0;
  maxConcurrent = 0;
  sessionLifetimeMs: number;
  sessionTokenLifetimeMs: number;
  readonly counts: FaultCounts = zeroCounts();
  private armed: ArmedFault[] = [];
  private readonly defaults: SessionDefaults;
  private readonly sessions: SessionFaultTarget;

  constructor(defaults: SessionDefaults, sessions: SessionFaultTarget) {
    this.defaults = { ...defaults };
    this.sessionLifetimeMs = defaults.sessionLifetimeMs;
    this.sessionTokenLifetimeMs = defaults.sessionTokenLifetimeMs;
    this.sessions = sessions;
  }

  throttle(options: ThrottleOptions): void {
    const status = options.status ?? 429;
    if (status !== 429 && status !== 503) throw new RangeError('throttle status must be 429 or 503');
    this.arm({ kind: 'throttle', status, retryAfterSeconds: options.retryAfterSeconds }, options.count, options.match);
  }

  failNext(options: FailOptions): void {
    if (![500, 502, 503, 504].includes(options.status)) throw new RangeError('failNext status must be 500, 502, 503 or 504');
    this.arm({ kind: 'fail', status: options.status }, options.count, options.match);
  }

  dropConnection(options: DropOptions): void {
    this.arm({ kind: 'drop', afterBytes: Math.max(0, options.afterBytes ?? 0) }, options.count, options.match);
  }

  stall(options: StallOptions): void {
    this.arm({ kind: 'stall' }, options.count, options.match);
  }

  expireSessions(): void {
    this.counts.sessionsExpired += this.sessions.expireAll();
  }

  denySessions(match: (session: UploadSessionInfo) => boolean = () => true): void {
    this.counts.sessionsDenied += this.sessions.deny(match, this.sessionTokenLifetimeMs);
  }

  pending(): number {
    return this.armed.reduce((sum, f) => sum + f.remaining, 0);
  }

  reset(): void {
    this.armed = [];
    this.latencyMs = 0;
    this.maxConcurrent = 0;
    this.sessionLifetimeMs = this.defaults.sessionLifetimeMs;
    this.sessionTokenLifetimeMs = this.defaults.sessionTokenLifetimeMs;
    Object.assign(this.counts, zeroCounts());
  }

  /** Cheap check first, so requests pay nothing when no fault is armed. */
  get hasArmed(): boolean {
    return this.armed.length > 0;
  }

  /** The fault this request suffers, if any; counts it as fired. */
  take(req: FaultRequest): FaultAction | undefined {
    for (let i = 0; i < this.armed.length; i++) {
      const fault = this.armed[i];
      if (fault.match !== undefined && !fault.match(req)) continue;
      if (--fault.remaining <= 0) this.armed.splice(i, 1);
      this.countFired(fault.action);
      return fault.action;
    }
    return undefined;
  }

  private arm(action: FaultAction, count: number, match: FaultMatch | undefined): void {
    if (!Number.isInteger(count) || count < 1) throw new RangeError('count must be a positive integer');
    this.armed.push({ action, remaining: count, match });
  }

  private countFired(action: FaultAction): void {
    switch (action.kind) {
      case 'throttle':
        this.counts.throttled++;
        break;
      case 'fail':
        this.counts.failed++;
        break;
      case 'drop':
        this.counts.dropped++;
        break;
      case 'stall':
        this.counts.stalled++;
        break;
    }
  }
}
