import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LocalDrive, partialCopyPath } from '../../src/drives/local/local-drive.js';
import { SourceFile } from '../../src/drives/source-file.js';
import { quickXorHashBase64 } from '../../src/hash/quickxorhash.js';
import { runJson } from '../support/cli.js';
import { freshDatabase } from '../support/database.js';
import { tempDir } from '../support/trees.js';

const MiB = 1024 * 1024;

function patterned(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 131 + (i >>> 13)) & 0xff;
  return bytes;
}

async function setUp(size = 4 * MiB + 77) {
  const src = await tempDir('src');
  const root = await tempDir('drive');
  const drive = new LocalDrive({ kind: 'local', root });
  const bytes = patterned(size);
  const absPath = path.join(src, 'big.bin');
  await writeFile(absPath, bytes);
  await drive.ensureFolder({ parentId: null, name: 'in', remotePath: 'in' });
  const dest = path.join(root, 'in', 'big.bin');
  const upload = (halt?: AbortSignal) => {
    const source = SourceFile.open(absPath);
    return drive.upload({ source, parentId: 'p', name: 'big.bin', remotePath: 'in/big.bin', halt }).finally(() => source.close());
  };
  const partial = () => {
    const source = SourceFile.open(absPath);
    try {
      return partialCopyPath(dest, source.fingerprint);
    } finally {
      source.close();
    }
  };
  return { absPath, bytes, dest, upload, partial };
}

test('a partial copy an interrupted run left is continued: the file arrives whole and the copied part is not written again', async () => {
  const s = await setUp();
  await writeFile(s.partial(), s.bytes.subarray(0, 2 * MiB + 5));

  const uploaded = await s.upload();

  assert.equal(uploaded.resumedBytes, 2 * MiB + 5);
  assert.equal(uploaded.localHash, quickXorHashBase64(s.bytes));
  assert.ok((await readFile(s.dest)).equals(s.bytes));
  assert.equal(existsSync(s.partial()), false, 'the partial copy became the file');
});

test('a partial copy whose bytes differ from the source is kept only up to the first buffer that differs', async () => {
  const s = await setUp();
  const spoiled = Buffer.from(s.bytes.subarray(0, 3 * MiB));
  spoiled[MiB + 100] ^= 0xff;
  await writeFile(s.partial(), spoiled);

  const uploaded = await s.upload();

  assert.equal(uploaded.resumedBytes, MiB);
  assert.ok((await readFile(s.dest)).equals(s.bytes));
});

test('a copy stopped by the run’s bound keeps its partial copy, and the next upload goes on from there', async () => {
  const s = await setUp();
  // The bound arrives after the copy's third check of it: three buffers are written by then.
  let checks = 0;
  const halt = { get aborted() {
    return ++checks > 3;
  } } as AbortSignal;

  await assert.rejects(s.upload(halt), { code: 'aborted' });
  const kept = statSync(s.partial()).size;
  assert.equal(kept, 3 * MiB);
  assert.equal(existsSync(s.dest), false, 'no half-written file under the real name');

  const uploaded = await s.upload();
  assert.equal(uploaded.resumedBytes, kept);
  assert.ok((await readFile(s.dest)).equals(s.bytes));
});

test('a source changed since its copy was interrupted is copied afresh, not continued from the old partial copy', async () => {
  const s = await setUp();
  const old = s.partial();
  await writeFile(old, s.bytes.subarray(0, 2 * MiB));
  const edited = Buffer.from(s.bytes);
  edited[0] ^= 0xff;
  await writeFile(s.absPath, edited);

  const uploaded = await s.upload();

  assert.equal(uploaded.resumedBytes, 0);
  assert.ok((await readFile(s.dest)).equals(edited));
  assert.notEqual(s.partial(), old, 'the changed file has another partial-copy name');
});

test('a run over a file whose partial copy an interrupted run left counts it as resumed, with the bytes it did not copy again', async () => {
  const db = await freshDatabase('local_partial');
  const src = await tempDir('src');
  const root = await tempDir('drive');
  const bytes = patterned(3 * MiB + 9);
  await mkdir(path.join(src, '5'));
  const absPath = path.join(src, '5', 'big.bin');
  await writeFile(absPath, bytes);
  const source = SourceFile.open(absPath);
  const dest = path.join(root, '5', 'big.bin');
  await mkdir(path.dirname(dest), { recursive: true });
  await writeFile(partialCopyPath(dest, source.fingerprint), bytes.subarray(0, 2 * MiB));
  source.close();

  const r = await runJson([src, '--database-url', db.url, '--local-root', root]);

  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summary.uploaded, 1);
  assert.equal(r.summary.resumed, 1);
  assert.equal(r.summary.bytesNotResent, 2 * MiB);
  assert.ok((await readFile(dest)).equals(bytes));
});
