import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { runJson } from '../support/cli.js';
import { freshDatabase } from '../support/database.js';
import { items } from '../support/ledger.js';
import { makeTree, tempDir } from '../support/trees.js';

const run = promisify(execFile);
const KiB = 1024;

/** A real file system of `sizeKiB` for the local drive: a tmpfs, which needs root (CAP_SYS_ADMIN). */
async function smallFileSystem(t: { after: (fn: () => Promise<void>) => void; skip: (why: string) => void }, sizeKiB: number): Promise<string | null> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vmb-full-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', dir]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    t.skip(`cannot mount a tmpfs here (${(err as Error).message.split('\n')[0]}); the full-disk test needs root`);
    return null;
  }
  t.after(async () => {
    await run('umount', [dir]);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

test('a full local drive fails the files that do not fit with local-enospc, records exactly the ones written and leaves no temporary file', async (t) => {
  const drive = await smallFileSystem(t, 512);
  if (drive === null) return;
  const db = await freshDatabase('full_disk');
  const src = await tempDir('src');
  const files = await makeTree(src, { corps: [9], folders: [''], filesPerFolder: 40, size: () => 64 * KiB });

  const r = await runJson([src, '--database-url', db.url, '--local-root', drive, '--threads', '1', '--tasks-per-thread', '1']);

  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.summary.status, 'failed');
  assert.ok(r.summary.uploaded > 0 && r.summary.uploaded < files.length, `uploaded ${r.summary.uploaded}`);
  assert.equal(r.summary.uploaded + r.summary.failed, files.length);
  assert.ok(r.summary.failures.every((f: { code: string; stage: string }) => f.code === 'local-enospc' && f.stage === 'upload'));
  const rows = (await items(db.url)).filter((x) => !x.is_folder);
  const onDrive = (await readdir(path.join(drive, '9'))).sort();
  assert.deepEqual(rows.map((x) => x.name).sort(), onDrive, 'a row for every file on the drive, and no other');
  for (const name of onDrive) assert.deepEqual(await readFile(path.join(drive, '9', name)), await readFile(path.join(src, '9', name)));
  assert.ok(onDrive.every((n) => !n.startsWith('.')), 'no temporary file left behind');
});
