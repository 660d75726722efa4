import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmbError } from '../../../src/errors/vmb-error.js';
import { createPacerBuffer, Pacer } from '../../../src/drives/onedrive/pacer.js';

test('the shared hold only ever moves forward', () => {
  const pacer = new Pacer(createPacerBuffer(), { retries: 0 });
  pacer.holdUntil(2_000);
  pacer.holdUntil(1_000);
  assert.equal(pacer.heldUntil(), 2_000);
  pacer.holdUntil(3_000);
  assert.equal(pacer.heldUntil(), 3_000);
});

test('two pacers on one buffer see each other’s hold', async () => {
  const buffer = createPacerBuffer();
  const a = new Pacer(buffer, { retries: 0 });
  const b = new Pacer(buffer, { retries: 0 });
  const until = Date.now() + 150;
  a.holdUntil(until);
  await b.ready();
  assert.ok(Date.now() >= until);
});

test('a retryable error with retryAfterSeconds holds every pacer on the buffer', async () => {
  const buffer = createPacerBuffer();
  const a = new Pacer(buffer, { retries: 1 });
  let tries = 0;
  const started = Date.now();
  const result = await a.run(async () => {
    await a.ready();
    if (tries++ === 0) throw new VmbError('retryable', 'throttled', 'slow down', { retryAfterSeconds: 0.2 });
    return 'ok';
  });
  assert.equal(result, 'ok');
  assert.ok(Date.now() - started >= 200);
  assert.ok(new Pacer(buffer, { retries: 0 }).heldUntil() >= started + 200);
});

test('run gives up after the retry budget with the last error’s code', async () => {
  const pacer = new Pacer(createPacerBuffer(), { retries: 2, random: () => 0 });
  let tries = 0;
  await assert.rejects(
    pacer.run(async () => {
      tries++;
      throw new VmbError('retryable', 'graph-server-error', 'HTTP 500');
    }),
    (err: VmbError) => err.code === 'graph-server-error' && /gave up after 2 retries/.test(err.message),
  );
  assert.equal(tries, 3);
});

test('run does not retry a skip or a fatal error', async () => {
  const pacer = new Pacer(createPacerBuffer(), { retries: 5 });
  let tries = 0;
  await assert.rejects(
    pacer.run(async () => {
      tries++;
      throw new VmbError('skip', 'graph-invalid-request', 'HTTP 400');
    }),
    { code: 'graph-invalid-request' },
  );
  assert.equal(tries, 1);
});

test('backoff is full jitter, bounded by an exponential ceiling and a 30 s cap', () => {
  const high = new Pacer(createPacerBuffer(), { retries: 0, random: () => 0.999 });
  assert.ok(high.backoffMs(0) < 250);
  assert.ok(high.backoffMs(2) < 1_000 && high.backoffMs(2) > 900);
  assert.ok(high.backoffMs(30) < 30_000);
  assert.equal(new Pacer(createPacerBuffer(), { retries: 0, random: () => 0 }).backoffMs(5), 0);
});
