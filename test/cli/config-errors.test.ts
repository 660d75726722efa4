import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../support/cli.js';
import { freshDatabase } from '../support/database.js';
import { tempDir } from '../support/trees.js';
import { freePort } from '../../src/ledger/embedded.js';

/** Exit code 2 and exactly one line on stderr that says what to fix; no stack trace. */
function assertConfigError(r: { code: number | null; stderr: string; stdout: string }, pattern: RegExp) {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(r.stdout, '');
}

test('a malformed database URL is a configuration error that names the option', async () => {
  const src = await tempDir('src');
  const r = await runCli([src, '--database-url', 'postgres://user:s3cret@:notaport/db', '--no-progress']);
  assertConfigError(r, /database-url/);
  assert.doesNotMatch(r.stderr, /s3cret/);
});

test('an unreachable server is a configuration error that hides the password', async () => {
  const src = await tempDir('src');
  const port = await freePort();
  const r = await runCli([src, '--database-url', `postgres://user:s3cret@127.0.0.1:${port}/db`, '--no-progress']);
  assertConfigError(r, /cannot reach PostgreSQL .*connection refused/);
  assert.doesNotMatch(r.stderr, /s3cret/);
});

test('a wrong password is a configuration error that hides the password', async () => {
  const src = await tempDir('src');
  const db = await freshDatabase('auth');
  const u = new URL(db.url);
  u.password = 'wrong-s3cret';
  const r = await runCli([src, '--database-url', u.toString(), '--no-progress']);
  assertConfigError(r, /refused the login.*check user and password/);
  assert.doesNotMatch(r.stderr, /wrong-s3cret/);
});

test('a missing import directory is a configuration error', async () => {
  const src = await tempDir('src');
  const r = await runCli([path.join(src, 'nope'), '--database-url', 'postgres://u:p@127.0.0.1:1/db', '--no-progress']);
  assertConfigError(r, /import directory .*nope does not exist/);
});

test('an import path that is a file is a configuration error', async () => {
  const r = await runCli([process.execPath, '--database-url', 'postgres://u:p@127.0.0.1:1/db', '--no-progress']);
  assertConfigError(r, /is a file, not a directory/);
});

for (const bad of ['0', '-1', 'abc', '100000']) {
  test(`--threads ${bad} is a configuration error`, async () => {
    const src = await tempDir('src');
    const r = await runCli([src, '--threads', bad, '--no-progress']);
    assertConfigError(r, /--threads must be a whole number from 1 to 256/);
  });
}

test('options can come from VMB_ environment variables', async () => {
  const src = await tempDir('src');
  const r = await runCli([src, '--no-progress'], { VMB_THREADS: 'abc' });
  assertConfigError(r, /--threads must be a whole number/);
});

test('an unknown option is a usage error pointing to --help', async () => {
  const r = await runCli(['/tmp', '--no-such-option']);
  assertConfigError(r, /Unknown argument.*--help/);
});

test('--help describes every option and the exit codes', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  for (const opt of ['--threads', '--dry-run', '--database-url', '--target', '--local-root', '--corp', '--json', '--no-progress', '--version', 'Exit codes']) {
    assert.ok(r.stdout.includes(opt), `--help mentions ${opt}`);
  }
});

test('a --log-file that cannot be written is a configuration error naming it', async () => {
  const src = await tempDir('src');
  const dir = await tempDir('logs');
  const r = await runCli([src, '--log-file', dir, '--no-progress']);
  assertConfigError(r, /--log-file .* cannot be written \(EISDIR\)/);
});
