import { kindOf, type Code, type ErrorKind } from '../../errors/vmb-error.js';

/**
 * The one place that says which Graph failures are worth another try (docs/graph-facts.md §5, the same
 * set as rclone's onedrive `shouldRetry`). Everything else only carries the decision out.
 */

export type RequestFailure =
  | { kind: 'http'; status: number; retryAfter?: string; graphCodes: readonly string[] }
  | { kind: 'network'; error: unknown };

export interface RetryDecision {
  /** How to wait before the next try; `never` means give up now. */
  retry: 'retry-after' | 'backoff' | 'refresh-token' | 'never';
  kind: ErrorKind;
  code: Code;
  retryAfterSeconds?: number;
}

export interface RetryContext {
  /** False once this request has already refreshed its token, or when the token is static. */
  canRefreshToken: boolean;
}

const THROTTLE_STATUSES = new Set([429, 503, 509]);

/** Graph's answers that mean "too much, wait" (429, 503, 509), for the retry decision and the governor alike. */
export const isThrottleStatus = (status: number): boolean => THROTTLE_STATUSES.has(status);
const SERVER_ERROR_STATUSES = new Set([500, 502, 504]);

/** A bad certificate will be just as bad on the next try; anything else below HTTP is transient. */
const TLS_FAILURE = /^(ERR_TLS_|CERT_|UNABLE_TO_(GET|VERIFY)_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|ERR_SSL_)/;

/** The `code` graph-client gives a request it destroyed because nothing moved for too long. */
export const REQUEST_TIMEOUT = 'VMB_REQUEST_TIMEOUT';

const GIVE_UP_CODES: Readonly<Record<number, Code>> = {
  400: 'graph-invalid-request',
  403: 'graph-access-denied',
  404: 'graph-not-found',
  409: 'graph-name-conflict',
  412: 'graph-precondition-failed',
  413: 'graph-too-large',
  423: 'graph-locked',
};

/** The decision to wait in `retry`'s way and fail with `code`, of the kind the code is registered with. */
function decide(retry: RetryDecision['retry'], code: Code, retryAfterSeconds?: number): RetryDecision {
  return { retry, kind: kindOf(code), code, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) };
}

export function shouldRetry(failure: RequestFailure, context: RetryContext): RetryDecision {
  if (failure.kind === 'network') {
    const code = (failure.error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && TLS_FAILURE.test(code)) return decide('never', 'tls-error');
    if (code === REQUEST_TIMEOUT) return decide('backoff', 'request-timeout');
    return decide('backoff', 'network-error');
  }
  const { status, graphCodes } = failure;
  if (isThrottleStatus(status)) {
    const seconds = parseRetryAfter(failure.retryAfter);
    if (seconds === undefined) return decide('backoff', 'throttled');
    return decide('retry-after', 'throttled', seconds);
  }
  if (SERVER_ERROR_STATUSES.has(status)) return decide('backoff', 'graph-server-error');
  if (status === 401) {
    if (context.canRefreshToken) return decide('refresh-token', 'unauthenticated');
    return decide('never', 'graph-unauthenticated');
  }
  if (graphCodes.includes('pathIsTooLong')) return decide('never', 'remote-path-too-long');
  if (status === 507) return decide('never', 'graph-quota-exceeded');
  return decide('never', GIVE_UP_CODES[status] ?? `graph-http-${status}`);
}

/** `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, (at - now) / 1000);
}
