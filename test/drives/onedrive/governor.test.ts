import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createGovernorBuffer, Governor, type GovernorOptions } from '../../../src/drives/onedrive/governor.js';
import { VmbError } from '../../../src/errors/vmb-error.js';

const UPLOAD = { units: 2, bytes: 0 };
const OK = { status: 201 };

/** A governor on `buffer` whose clock is `clock.now` (ms), moved by hand. */
function governed(buffer = createGovernorBuffer(), clock = { now: 1_000_000 }, options: Partial<GovernorOptions> = {}) {
  return new Governor(buffer, { retries: 0, maxRatePerMinute: 0, bytesPerSecond: 0, now: () => clock.now, ...options });
}

/** 100 uploads (200 RU) in the first half second, then a 429: the window is spent for 9.5 s more. */
async function spendTheWindow(g: Governor, clock: { now: number }): Promise<void> {
  for (let i = 0; i < 100; i++) await g.admit(UPLOAD);
  clock.now += 500;
  g.observe(UPLOAD, { status: 429, retryAfterSeconds: 9.5 });
}

test('the hold only moves forward, so a short Retry-After never cancels a longer one', () => {
  const g = governed();
  g.holdUntil(2_002_000);
  g.holdUntil(2_001_000);
  assert.equal(g.heldUntil(), 2_002_000);
});

test('governors on one buffer (one per thread) see each other’s hold', () => {
  const buffer = createGovernorBuffer();
  const clock = { now: 1_000_000 };
  governed(buffer, clock).observe(UPLOAD, { status: 429, retryAfterSeconds: 3 });
  assert.equal(governed(buffer, clock).heldUntil(), 1_003_000);
  assert.equal(Governor.reader(buffer).read().throttledRequests, 1);
});

test('no request starts before a hold set by another governor has passed', async () => {
  const buffer = createGovernorBuffer();
  const until = Date.now() + 300;
  new Governor(buffer, { retries: 0, maxRatePerMinute: 0, bytesPerSecond: 0 }).holdUntil(until);
  await new Governor(buffer, { retries: 0, maxRatePerMinute: 0, bytesPerSecond: 0 }).admit(UPLOAD);
  assert.ok(Date.now() >= until);
});

test('a throttled try is tried again however often it is throttled, and never counts as a retry', async () => {
  const g = new Governor(createGovernorBuffer(), { retries: 0, maxRatePerMinute: 0, bytesPerSecond: 0 });
  let tries = 0;
  let retries = 0;
  const result = await g.run(
    async () => {
      if (tries++ < 10) throw new VmbError('retryable', 'throttled', 'HTTP 429');
      return 'ok';
    },
    { onRetry: () => retries++ },
  );
  assert.equal(result, 'ok');
  assert.equal(tries, 11);
  assert.equal(retries, 0);
});

test('run gives up on a server error after the retry budget, with its code', async () => {
  const g = new Governor(createGovernorBuffer(), { retries: 2, maxRatePerMinute: 0, bytesPerSecond: 0, random: () => 0 });
  let tries = 0;
  await assert.rejects(
    g.run(async () => {
      tries++;
      throw new VmbError('retryable', 'graph-server-error', 'HTTP 500');
    }),
    (err: VmbError) => err.code === 'graph-server-error' && /gave up after 2 retries/.test(err.message),
  );
  assert.equal(tries, 3);
});

test('run does not retry a skip or a fatal error', async () => {
  const g = new Governor(createGovernorBuffer(), { retries: 5, maxRatePerMinute: 0, bytesPerSecond: 0 });
  let tries = 0;
  await assert.rejects(
    g.run(async () => {
      tries++;
      throw new VmbError('skip', 'graph-invalid-request', 'HTTP 400');
    }),
    { code: 'graph-invalid-request' },
  );
  assert.equal(tries, 1);
});

test('backoff is full jitter, bounded by an exponential ceiling and a 30 s cap', () => {
  const high = governed(undefined, undefined, { random: () => 0.999 });
  assert.ok(high.backoffMs(0) < 250);
  assert.ok(high.backoffMs(2) < 1_000 && high.backoffMs(2) > 900);
  assert.ok(high.backoffMs(30) < 30_000);
  assert.equal(governed(undefined, undefined, { random: () => 0 }).backoffMs(5), 0);
});

test('the rate is unlimited until the first throttle', () => {
  assert.equal(governed().rate(), Infinity);
});

test('the first throttle learns 95% of what was spent from the first request to the end of its hold', async () => {
  const clock = { now: 1_000_000 };
  const g = governed(undefined, clock);
  // 100 uploads (200 RU) in the first half second, then the window is spent for 9.5 s more.
  for (let i = 0; i < 100; i++) {
    await g.admit(UPLOAD);
    g.observe(UPLOAD, OK);
  }
  clock.now += 500;
  g.observe(UPLOAD, { status: 429, retryAfterSeconds: 9.5 });
  assert.equal(g.heldUntil(), 1_010_000);
  assert.ok(Math.abs(g.rate() - 19) < 0.01, `learned ${g.rate()} RU/s`);
});

test('throttles answered together learn once', async () => {
  const clock = { now: 1_000_000 };
  const g = governed(undefined, clock);
  await spendTheWindow(g, clock);
  const learned = g.rate();
  clock.now += 5;
  g.observe(UPLOAD, { status: 429, retryAfterSeconds: 9.5 });
  assert.equal(g.rate(), learned);
  assert.equal(g.read().throttledRequests, 2);
  assert.equal(g.read().holds, 1);
});

test('the learned rate grows by about 1% a second in the minute after a throttle', async () => {
  const clock = { now: 1_000_000 };
  const g = governed(undefined, clock);
  await spendTheWindow(g, clock);
  const learned = g.rate();
  clock.now = 1_010_000 + 10_000;
  g.observe(UPLOAD, OK);
  assert.ok(Math.abs(g.rate() / learned - 1.01 ** 10) < 0.001, `grew ×${g.rate() / learned}`);
});

test('a throttle without Retry-After holds for 1 s, then twice as long each time in a row', () => {
  const clock = { now: 1_000_000 };
  const g = governed(undefined, clock);
  g.observe(UPLOAD, { status: 429 });
  assert.equal(g.heldUntil(), 1_001_000);
  clock.now = 1_001_000;
  g.observe(UPLOAD, { status: 429 });
  assert.equal(g.heldUntil(), 1_003_000);
  clock.now = 1_003_000;
  g.observe(UPLOAD, OK);
  g.observe(UPLOAD, { status: 429 });
  assert.equal(g.heldUntil(), 1_004_000);
});

test('RateLimit headers spread what remains of the window until its reset', () => {
  const g = governed();
  g.observe(UPLOAD, { status: 200, rateLimit: { remaining: 40, resetSeconds: 10 } });
  assert.equal(g.rate(), 4);
});

test('RateLimit headers with nothing left hold every request until the reset', () => {
  const clock = { now: 1_000_000 };
  const g = governed(undefined, clock);
  g.observe(UPLOAD, { status: 200, rateLimit: { remaining: 1, resetSeconds: 7 } });
  assert.equal(g.heldUntil(), 1_007_000);
  assert.equal(g.read().throttledRequests, 0);
});

test('the header rate ends at the reset', () => {
  const clock = { now: 1_000_000 };
  const g = governed(undefined, clock);
  g.observe(UPLOAD, { status: 200, rateLimit: { remaining: 40, resetSeconds: 10 } });
  clock.now += 10_001;
  assert.equal(g.rate(), Infinity);
});

test('--max-rate caps the rate in RU per minute', () => {
  const g = governed(undefined, undefined, { maxRatePerMinute: 1_250 });
  assert.equal(g.rate(), 1_250 / 60);
  g.observe(UPLOAD, { status: 200, rateLimit: { remaining: 5_000, resetSeconds: 10 } });
  assert.equal(g.rate(), 1_250 / 60);
});

test('a 503 stretch and a throttled stretch are kept until a success ends them', () => {
  const clock = { now: 1_000_000 };
  const g = governed(undefined, clock);
  g.observe(UPLOAD, { status: 503, retryAfterSeconds: 1 });
  clock.now += 5_000;
  g.observe(UPLOAD, { status: 429, retryAfterSeconds: 1 });
  assert.deepEqual([g.read().throttledSince, g.read().unavailableSince], [1_000_000, 1_000_000]);
  g.observe(UPLOAD, OK);
  assert.deepEqual([g.read().throttledSince, g.read().unavailableSince], [null, null]);
});

test('released, a request waiting in a hold gives up at once', async () => {
  const buffer = createGovernorBuffer();
  const g = new Governor(buffer, { retries: 0, maxRatePerMinute: 0, bytesPerSecond: 0 });
  g.holdUntil(Date.now() + 3_600_000);
  const waiting = g.admit(UPLOAD);
  Governor.reader(buffer).release();
  await assert.rejects(waiting, { code: 'aborted' });
});

test('time held counts overlapping holds once and not the part still ahead', () => {
  const clock = { now: 1_000_000 };
  const g = governed(undefined, clock);
  g.holdUntil(1_002_000);
  g.holdUntil(1_003_000);
  assert.equal(g.read().heldMs, 0);
  clock.now = 1_004_000;
  assert.equal(g.read().heldMs, 3_000);
});

test('a throttle after a handful of requests holds but learns nothing', async () => {
  const clock = { now: 1_000_000 };
  const g = governed(undefined, clock);
  for (let i = 0; i < 3; i++) await g.admit(UPLOAD);
  g.observe(UPLOAD, { status: 429, retryAfterSeconds: 2 });
  assert.equal(g.heldUntil(), 1_002_000);
  assert.equal(g.rate(), Infinity);
});

test('a learned rate that has held a minute without a throttle grows by 10% a second', async () => {
  const clock = { now: 1_000_000 };
  const g = governed(undefined, clock);
  g.seed(1_200);
  clock.now += 60_000;
  g.observe(UPLOAD, OK);
  const afterAMinute = g.rate();
  clock.now += 10_000;
  g.observe(UPLOAD, OK);
  assert.ok(Math.abs(g.rate() / afterAMinute - 1.1 ** 10) < 0.01, `grew ×${g.rate() / afterAMinute}`);
});

test('a seed from an earlier run is the learned rate, unless one is learned already', () => {
  const g = governed();
  g.seed(1_200);
  assert.equal(g.rate(), 20);
  g.seed(6_000);
  assert.equal(g.rate(), 20);
});

test('a window spent by the RateLimit headers teaches the pace as a throttle does', async () => {
  const clock = { now: 1_000_000 };
  const g = governed(undefined, clock);
  for (let i = 0; i < 100; i++) await g.admit(UPLOAD);
  clock.now += 500;
  g.observe(UPLOAD, { status: 200, rateLimit: { remaining: 0, resetSeconds: 9.5 } });
  clock.now += 10_000;
  assert.ok(Math.abs(g.rate() - 19) < 0.01, `learned ${g.rate()} RU/s`);
});
