import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SourceFile } from '../../src/drives/source-file.js';

async function tempDir(t: TestContext): Promise<string> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'vmb-source-'));
  t.after(() => fs.promises.rm(dir, { recursive: true, force: true }));
  return dir;
}

function opened(t: TestContext, absPath: string, followSymlinks = false): SourceFile {
  const source = SourceFile.open(absPath, { followSymlinks });
  t.after(() => source.close());
  return source;
}

async function readAll(source: SourceFile, pieceBytes: number): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let position = 0; ; ) {
    const buffer = Buffer.alloc(pieceBytes);
    const n = await source.read(buffer, 0, pieceBytes, position);
    if (n === 0) return Buffer.concat(pieces);
    pieces.push(buffer.subarray(0, n));
    position += n;
  }
}

test('an opened file reports the size and mtime it had when opened', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'a.bin');
  fs.writeFileSync(file, randomBytes(1234));
  const source = opened(t, file);
  const st = fs.statSync(file);
  assert.equal(source.size, 1234);
  assert.equal(source.mtimeMs, st.mtimeMs);
});

test('small and large positional reads return the file bytes exactly', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'big.bin');
  const bytes = randomBytes(3 * 1024 * 1024 + 17);
  fs.writeFileSync(file, bytes);
  const source = opened(t, file);
  // 4 KiB pieces are read synchronously, 2 MiB pieces through the thread pool: both must agree.
  assert.ok((await readAll(source, 4096)).equals(bytes));
  assert.ok((await readAll(source, 2 * 1024 * 1024)).equals(bytes));
  const middle = Buffer.alloc(100);
  assert.equal(await source.read(middle, 0, 100, 1_000_000), 100);
  assert.ok(middle.equals(bytes.subarray(1_000_000, 1_000_100)));
});

test('a file that vanished is skipped as vanished', async (t) => {
  const dir = await tempDir(t);
  assert.throws(() => SourceFile.open(path.join(dir, 'nope')), { kind: 'skip', code: 'vanished' });
});

test('a FIFO and a directory are not files, and opening a FIFO does not block', async (t) => {
  const dir = await tempDir(t);
  const fifo = path.join(dir, 'pipe');
  execFileSync('mkfifo', [fifo]);
  assert.throws(() => SourceFile.open(fifo), { kind: 'skip', code: 'not-a-file' });
  assert.throws(() => SourceFile.open(dir), { kind: 'skip', code: 'not-a-file' });
});

test('a symbolic link is not followed unless asked to', async (t) => {
  const dir = await tempDir(t);
  const real = path.join(dir, 'real.txt');
  const link = path.join(dir, 'link.txt');
  fs.writeFileSync(real, 'hello');
  fs.symlinkSync(real, link);
  assert.throws(() => SourceFile.open(link), { kind: 'skip', code: 'not-a-file' });
  assert.equal(opened(t, link, true).size, 5);
});

test('assertUnchanged passes for an untouched file', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'same.txt');
  fs.writeFileSync(file, 'content');
  const source = opened(t, file);
  await readAll(source, 4096);
  assert.doesNotThrow(() => source.assertUnchanged());
});

test('assertUnchanged fails with file-changed when the file grew after it was opened', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'log.txt');
  fs.writeFileSync(file, 'first\n');
  const source = opened(t, file);
  fs.appendFileSync(file, 'second\n');
  assert.throws(() => source.assertUnchanged(), { kind: 'skip', code: 'file-changed' });
});

test('assertUnchanged fails with file-changed when the file was rewritten to the same size', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'doc.txt');
  fs.writeFileSync(file, 'aaaa');
  const source = opened(t, file);
  fs.writeFileSync(file, 'bbbb');
  const later = new Date(source.mtimeMs + 5_000);
  fs.utimesSync(file, later, later);
  assert.throws(() => source.assertUnchanged(), { kind: 'skip', code: 'file-changed' });
});

test('a file replaced under its name keeps being read as the file that was opened', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'swap.txt');
  fs.writeFileSync(file, 'old content');
  const source = opened(t, file);
  fs.writeFileSync(`${file}.new`, 'new');
  fs.renameSync(`${file}.new`, file);
  assert.equal((await readAll(source, 4096)).toString(), 'old content');
  assert.doesNotThrow(() => source.assertUnchanged());
});

test('close releases the descriptor and is safe to repeat', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'x.txt');
  fs.writeFileSync(file, 'x');
  const before = fs.readdirSync('/proc/self/fd').length;
  const source = SourceFile.open(file);
  assert.equal(fs.readdirSync('/proc/self/fd').length, before + 1);
  source.close();
  source.close();
  assert.equal(fs.readdirSync('/proc/self/fd').length, before);
  await assert.rejects(source.read(Buffer.alloc(1), 0, 1, 0), { code: 'internal-error' });
});
