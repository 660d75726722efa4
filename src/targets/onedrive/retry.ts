import type { ErrorKind } from '../../errors.js';

/**
 * The one place that says which Graph failures are worth another try (docs/graph-facts.md §5, the same
 * set as rclone's onedrive `shouldRetry`). Everything else only carries the decision out.
 */

export type Failure =
  | { kind: 'http'; status: number; retryAfter?: string; graphCodes: readonly string[] }
  | { kind: 'network'; error: unknown };

export interface RetryDecision {
  /** How to wait before the next try; `never` means give up now. */
  retry: 'retry-after' | 'backoff' | 'refresh-token' | 'never';
  kind: ErrorKind;
  code: string;
  retryAfterSeconds?: number;
}

export interface RetryContext {
  /** False once this request has already refreshed its token, or when the token is static. */
  canRefreshToken: boolean;
}

const THROTTLE_STATUSES = new Set([429, 503, 509]);
const SERVER_ERROR_STATUSES = new Set([500, 502, 504]);

/** A bad certificate will be just as bad on the next try; anything else below HTTP is transient. */
const TLS_FAILURE = /^(ERR_TLS_|CERT_|UNABLE_TO_(GET|VERIFY)_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|ERR_SSL_)/;

/** The `code` graph-client gives a request it destroyed because nothing moved for too long. */
export const REQUEST_TIMEOUT = 'VMB_REQUEST_TIMEOUT';

const GIVE_UP_CODES: Readonly<Record<number, string>> = {
  400: 'graph-invalid-request',
  403: 'graph-access-denied',
  404: 'graph-not-found',
  409: 'graph-name-conflict',
  412: 'graph-precondition-failed',
  413: 'graph-too-large',
  423: 'graph-locked',
};

export function shouldRetry(failure: Failure, context: RetryContext): RetryDecision {
  if (failure.kind === 'network') {
    const code = (failure.error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && TLS_FAILURE.test(code)) return { retry: 'never', kind: 'fatal', code: 'tls-error' };
    if (code === REQUEST_TIMEOUT) return { retry: 'backoff', kind: 'retryable', code: 'request-timeout' };
    return { retry: 'backoff', kind: 'retryable', code: 'network-error' };
  }
  const { status, graphCodes } = failure;
  if (THROTTLE_STATUSES.has(status)) {
    const seconds = parseRetryAfter(failure.retryAfter);
    if (seconds === undefined) return { retry: 'backoff', kind: 'retryable', code: 'throttled' };
    return { retry: 'retry-after', kind: 'retryable', code: 'throttled', retryAfterSeconds: seconds };
  }
  if (SERVER_ERROR_STATUSES.has(status)) return { retry: 'backoff', kind: 'retryable', code: 'graph-server-error' };
  if (status === 401) {
    if (context.canRefreshToken) return { retry: 'refresh-token', kind: 'retryable', code: 'unauthenticated' };
    return { retry: 'never', kind: 'fatal', code: 'graph-unauthenticated' };
  }
  if (graphCodes.includes('pathIsTooLong')) return { retry: 'never', kind: 'skip', code: 'remote-path-too-long' };
  if (status === 507) return { retry: 'never', kind: 'fatal', code: 'graph-quota-exceeded' };
  return { retry: 'never', kind: 'skip', code: GIVE_UP_CODES[status] ?? `graph-http-${status}` };
}

/** `Retry-After` is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, (at - now) / 1000);
}
