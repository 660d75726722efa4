import type { DriveTraffic } from '../drives/backend.js';
import type { Logger } from '../log/logger.js';
import type { ThrottlingTally, TrafficReading } from '../types.js';

/** Often enough that a stop lands within a quarter second of its limit, rarely enough to cost nothing. */
const TICK_MS = 250;

export type TrafficVerdict = 'throttle-timeout' | 'graph-blocked';

/**
 * The main thread's eye on the drive's shared traffic state (the worker threads' governor): one
 * log line per hold, not per request; the end of a throttled stretch that lasts past
 * --throttle-timeout (or whose hold alone would); a drive answering only 503 for --blocked-after.
 * It decides; the run stops.
 */
export class TrafficWatch {
  private timer: NodeJS.Timeout | null = null;
  private holdsLogged = 0;
  private decided = false;
  private held: number | null = null;

  constructor(
    private readonly traffic: DriveTraffic,
    private readonly log: Logger,
    private readonly onVerdict: (verdict: TrafficVerdict, why: string) => void,
    /** A hold began (until when, epoch ms) or ended (null): for the progress display. */
    private readonly onHeld: (until: number | null) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  tally(durationMs: number): ThrottlingTally {
    const r = this.traffic.read();
    return {
      throttledRequests: r.throttledRequests,
      heldMs: r.heldMs,
      resourceUnitsPerMinute: Math.round((r.resourceUnitsAdmitted / Math.max(durationMs, 1)) * 60_000),
      learnedRatePerMinute: Math.round(r.learnedRatePerMinute),
    };
  }

  tick(): void {
    const r = this.traffic.read();
    const now = Date.now();
    const held = r.holdUntil > now ? r.holdUntil : null;
    if (held !== this.held) {
      this.held = held;
      this.onHeld(held);
    }
    if (r.holds > this.holdsLogged) {
      this.holdsLogged = r.holds;
      if (held !== null) {
        const heldSeconds = Math.round((held - now) / 100) / 10;
        this.log.info({ heldSeconds, throttledRequests: r.throttledRequests }, `throttled by the drive: no request starts for ${heldSeconds.toFixed(1)}s`);
      }
    }
    if (this.decided) return;
    const verdict = this.judge(r, now);
    if (verdict) {
      this.decided = true;
      this.onVerdict(verdict.verdict, verdict.why);
    }
  }

  private judge(r: TrafficReading, now: number): { verdict: TrafficVerdict; why: string } | null {
    const { throttleTimeoutMs, blockedAfterMs } = this.traffic;
    if (r.unavailableSince !== null && now - r.unavailableSince >= blockedAfterMs) {
      return {
        verdict: 'graph-blocked',
        why: `Graph has answered only 503 for ${seconds(now - r.unavailableSince)}: the tenant may have blocked this app for overuse; check the app registration and the tenant's service health in the Microsoft 365 admin center, lower --max-rate or --threads, and run again once requests succeed`,
      };
    }
    if (r.throttledSince === null) return null;
    if (now - r.throttledSince >= throttleTimeoutMs) {
      return { verdict: 'throttle-timeout', why: `throttled with nothing let through for ${seconds(now - r.throttledSince)} (--throttle-timeout): the files not done are deferred to the next run` };
    }
    if (r.holdUntil - r.throttledSince > throttleTimeoutMs) {
      return { verdict: 'throttle-timeout', why: `the drive holds every request until ${new Date(r.holdUntil).toISOString()}, past --throttle-timeout: the files not done are deferred to the next run` };
    }
    return null;
  }
}

const seconds = (ms: number) => `${Math.round(ms / 1000)}s`;
