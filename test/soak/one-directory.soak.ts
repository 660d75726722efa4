import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { freshDatabase, withClient } from '../support/database.js';
import { startCli } from '../support/cli.js';
import { tempDir } from '../support/trees.js';
import { sampleRss } from '../support/faults.js';

const FILES = Number(process.env.VMB_SOAK_FILES ?? 100_000);

test(`${FILES.toLocaleString('en')} files in one directory are all imported with bounded memory and an exact child_count`, { timeout: 30 * 60_000 }, async () => {
  const db = await freshDatabase('soak_one_dir');
  const src = await tempDir('src');
  const drive = await tempDir('drive');
  const dir = path.join(src, '1', 'flat');
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < FILES; i += 1000) {
    await Promise.all(Array.from({ length: Math.min(1000, FILES - i) }, (_, j) => writeFile(path.join(dir, `f${i + j}.txt`), String(i + j))));
  }

  const run = startCli([src, '--database-url', db.url, '--local-root', drive, '--json', '--no-progress', '--quiet']);
  const rss = sampleRss(run.child.pid!, 100);
  const r = await run.done;
  const peak = rss.stop();

  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.uploaded, FILES);
  const counts = await withClient(db.url, (c) =>
    c.query("SELECT count(*) FILTER (WHERE NOT is_folder)::int AS files, max(child_count) FILTER (WHERE remote_path = '1/flat')::int AS flat FROM corporate.vmb_items"),
  );
  assert.equal(counts.rows[0].files, FILES);
  assert.equal(counts.rows[0].flat, FILES);
  assert.ok(peak > 0 && peak < 400 * 1024 * 1024, `peak RSS ${(peak / 1024 / 1024).toFixed(0)} MB`);
});
