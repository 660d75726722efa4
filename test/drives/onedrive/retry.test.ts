import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRetryAfter, REQUEST_TIMEOUT, shouldRetry, type RequestFailure } from '../../../src/drives/onedrive/retry.js';

const http = (status: number, retryAfter?: string, graphCodes: string[] = []): RequestFailure => ({ kind: 'http', status, retryAfter, graphCodes });
const fresh = { canRefreshToken: true };

test('429, 503 and 509 with Retry-After wait that long and count as throttling', () => {
  for (const status of [429, 503, 509]) {
    assert.deepEqual(shouldRetry(http(status, '7'), fresh), { retry: 'retry-after', kind: 'retryable', code: 'throttled', retryAfterSeconds: 7 });
  }
});

test('429 without Retry-After backs off instead', () => {
  assert.equal(shouldRetry(http(429), fresh).retry, 'backoff');
});

test('500, 502 and 504 back off', () => {
  for (const status of [500, 502, 504]) assert.deepEqual(shouldRetry(http(status), fresh), { retry: 'backoff', kind: 'retryable', code: 'graph-server-error' });
});

test('401 refreshes the token once, and a second 401 stops the run', () => {
  assert.equal(shouldRetry(http(401), fresh).retry, 'refresh-token');
  assert.deepEqual(shouldRetry(http(401), { canRefreshToken: false }), { retry: 'never', kind: 'fatal', code: 'graph-unauthenticated' });
});

test('400, 403 and 409 skip the file without retrying', () => {
  assert.deepEqual(shouldRetry(http(400), fresh), { retry: 'never', kind: 'skip', code: 'graph-invalid-request' });
  assert.deepEqual(shouldRetry(http(403), fresh), { retry: 'never', kind: 'skip', code: 'graph-access-denied' });
  assert.deepEqual(shouldRetry(http(409), fresh), { retry: 'never', kind: 'skip', code: 'graph-name-conflict' });
});

test('a full quota stops the run', () => {
  assert.deepEqual(shouldRetry(http(507), fresh), { retry: 'never', kind: 'fatal', code: 'graph-quota-exceeded' });
});

test('pathIsTooLong in the inner error skips the file', () => {
  assert.deepEqual(shouldRetry(http(400, undefined, ['invalidRequest', 'pathIsTooLong']), fresh), { retry: 'never', kind: 'skip', code: 'remote-path-too-long' });
});

test('connection resets and timeouts back off', () => {
  const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  assert.deepEqual(shouldRetry({ kind: 'network', error: reset }, fresh), { retry: 'backoff', kind: 'retryable', code: 'network-error' });
  const timeout = Object.assign(new Error('stalled'), { code: REQUEST_TIMEOUT });
  assert.deepEqual(shouldRetry({ kind: 'network', error: timeout }, fresh), { retry: 'backoff', kind: 'retryable', code: 'request-timeout' });
});

test('a certificate failure is not retried', () => {
  const tls = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  assert.deepEqual(shouldRetry({ kind: 'network', error: tls }, fresh), { retry: 'never', kind: 'fatal', code: 'tls-error' });
});

test('Retry-After is read as seconds or as an HTTP date', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('120', now), 120);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
});
