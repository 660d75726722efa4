import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { BufferPool } from '../../src/limits/buffer-pool.js';

const MiB = 1024 * 1024;

test('buffers beyond the budget wait until one is given back, and the given one is lent again', async () => {
  const pool = new BufferPool(2 * MiB);
  const a = await pool.take(MiB);
  const b = await pool.take(MiB);
  let third: Buffer | undefined;
  const waiting = pool.take(MiB).then((buffer) => (third = buffer));
  await sleep(20);
  assert.equal(third, undefined, 'a third 1 MiB buffer does not fit a 2 MiB budget');
  pool.give(a);
  await waiting;
  assert.equal(third, a, 'the returned buffer is reused, not a new one allocated');
  pool.give(b);
  pool.give(third!);
});

test('a request larger than the whole budget is served when nothing else is lent', async () => {
  const pool = new BufferPool(MiB);
  const big = await pool.take(3 * MiB);
  assert.ok(big.length >= 3 * MiB);
  let next: Buffer | undefined;
  const waiting = pool.take(MiB).then((buffer) => (next = buffer));
  await sleep(20);
  assert.equal(next, undefined);
  pool.give(big);
  await waiting;
  assert.ok(next!.length >= MiB);
});

test('a free buffer much larger than asked is not tied up by a smaller request', async () => {
  const pool = new BufferPool(64 * MiB);
  const chunk = await pool.take(10 * MiB);
  pool.give(chunk);
  const medium = await pool.take(MiB);
  assert.notEqual(medium, chunk);
  assert.equal(medium.length, MiB);
});

test('small buffers are never held back by the budget', async () => {
  const pool = new BufferPool(MiB);
  const big = await pool.take(MiB);
  const small = await Promise.race([pool.take(4096), sleep(50).then(() => null)]);
  assert.ok(small && small.length === 4096, 'a 4 KiB buffer is served at once even with the budget spent');
  pool.give(small);
  pool.give(big);
});
