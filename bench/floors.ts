/**
 * The floors: each part of an import done alone, as fast as this code can do it, on the same data.
 *
 *   node dist/bench/floors.js hash   --spec JSON --threads T --concurrency C
 *   node dist/bench/floors.js target --spec JSON --kind onedrive --graph-url U --drive-id D --remote-root R --concurrency N --chunk-size B --simple-max B
 *   node dist/bench/floors.js target --spec JSON --kind local --local-root DIR --concurrency N   (read, write to a temp name, rename)
 *   node dist/bench/floors.js copy   --spec JSON --database-url URL --drive-id D --remote-root R --key-kind local|onedrive
 *
 * Prints one JSON line: { ms, files, bytes }, where ms covers the work only (not start-up, not
 * listing the data set). The Graph token comes from VMB_GRAPH_TOKEN.
 */
import { randomFillSync } from 'node:crypto';
import { mkdir, open, rename } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { QuickXorHash } from '../src/hash/quickxorhash.js';
import { fileCount, gridDirs, gridFiles, type GridSpec } from './lib/datasets.js';
import { eachLimit, miniGraph } from './lib/graph-http.js';
import { copyItems, itemLines } from './lib/ledger-rows.js';

const READ_BUFFER = 1024 * 1024;

interface HashJob {
  spec: GridSpec;
  threads: number;
  index: number;
  concurrency: number;
}

/** One thread's share: every threads-th file, `concurrency` at a time, read in 1 MiB pieces and hashed. */
async function hashShare(job: HashJob): Promise<{ files: number; bytes: number; xor: number }> {
  const mine = [...gridFiles(job.spec)].filter((_, i) => i % job.threads === job.index);
  let bytes = 0;
  let xor = 0;
  await eachLimit(mine, job.concurrency, async (f) => {
    const h = new QuickXorHash();
    const buf = Buffer.allocUnsafe(Math.min(READ_BUFFER, job.spec.size + 1));
    const fh = await open(path.join(job.spec.root, f.rel), 'r');
    try {
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        h.update(buf.subarray(0, bytesRead));
        bytes += bytesRead;
      }
    } finally {
      await fh.close();
    }
    xor ^= h.digest()[0];
  });
  return { files: mine.length, bytes, xor };
}

async function hashFloor(spec: GridSpec, threads: number, concurrency: number) {
  const workers = Array.from({ length: threads }, (_, index) => new Worker(new URL(import.meta.url), { workerData: { spec, threads, index, concurrency } satisfies HashJob }));
  await Promise.all(workers.map((w) => new Promise<void>((resolve) => w.once('online', () => resolve()))));
  const started = performance.now();
  for (const w of workers) w.postMessage('go');
  const parts = await Promise.all(
    workers.map(
      (w) =>
        new Promise<{ files: number; bytes: number }>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
  const ms = performance.now() - started;
  await Promise.all(workers.map((w) => w.terminate()));
  return { ms, files: parts.reduce((n, p) => n + p.files, 0), bytes: parts.reduce((n, p) => n + p.bytes, 0) };
}

async function graphFloor(spec: GridSpec, o: { graphUrl: string; driveId: string; remoteRoot: string; concurrency: number; chunkSize: number; simpleMax: number }) {
  const token = process.env.VMB_GRAPH_TOKEN ?? '';
  const g = miniGraph(o.graphUrl, o.driveId, token, o.concurrency);
  const files = [...gridFiles(spec)];
  const dirs = [...gridDirs(spec)];
  // The bytes come from memory: this floor is the HTTP exchange alone, not reading files.
  const body = randomFillSync(Buffer.allocUnsafe(Math.max(1, Math.min(spec.size, Math.max(o.chunkSize, o.simpleMax)))));
  const started = performance.now();
  const ids = new Map<string, string>();
  const root = await g.rootId(o.remoteRoot);
  for (let depth = 1; depth <= 3; depth++) {
    const level = dirs.filter((d) => d.rel.split('/').length === depth);
    await eachLimit(level, o.concurrency, async (d) => {
      ids.set(d.rel, await g.folder(d.parentRel === null ? root : ids.get(d.parentRel)!, d.name));
    });
  }
  let bytes = 0;
  await eachLimit(files, o.concurrency, async (f) => {
    await g.upload(ids.get(f.dirRel)!, f.name, spec.size, (_from, length) => body.subarray(0, length), o.chunkSize, o.simpleMax);
    bytes += spec.size;
  });
  const ms = performance.now() - started;
  g.close();
  return { ms, files: files.length, bytes };
}

/**
 * The local target's file work alone: what LocalDrive does (open, read in 1 MiB pieces, write to a
 * temporary name, rename into place), N at once, without hashing and without the database.
 */
async function localFloor(spec: GridSpec, localRoot: string, concurrency: number) {
  const files = [...gridFiles(spec)];
  const started = performance.now();
  for (const d of gridDirs(spec)) await mkdir(path.join(localRoot, d.rel), { recursive: true });
  await eachLimit(files, concurrency, async (f) => {
    const dest = path.join(localRoot, f.rel);
    const temp = path.join(path.dirname(dest), `.${f.name}.floor`);
    const buf = Buffer.allocUnsafe(Math.min(READ_BUFFER, spec.size + 1));
    const src = await open(path.join(spec.root, f.rel), 'r');
    const out = await open(temp, 'w');
    try {
      for (;;) {
        const { bytesRead } = await src.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        await out.write(buf, 0, bytesRead);
      }
    } finally {
      await out.close();
      await src.close();
    }
    await rename(temp, dest);
  });
  return { ms: performance.now() - started, files: files.length, bytes: files.length * spec.size };
}

async function copyFloor(spec: GridSpec, o: { databaseUrl: string; driveId: string; remoteRoot: string; keyKind: 'local' | 'onedrive' }) {
  const key = { driveId: o.driveId, remoteRoot: o.remoteRoot, kind: o.keyKind };
  const n = fileCount(spec);
  // Small sets are listed (and stat'ed) before the clock starts; a million fixed-mtime rows stream.
  const lines: Iterable<string> = n <= 200_000 ? [...itemLines(spec, key)] : itemLines(spec, key);
  const client = new pg.Client({ connectionString: o.databaseUrl, application_name: 'vmb-bench/copy-floor' });
  await client.connect();
  try {
    const started = performance.now();
    await copyItems(client, lines);
    return { ms: performance.now() - started, files: n, bytes: n * spec.size };
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      spec: { type: 'string' },
      threads: { type: 'string', default: '1' },
      concurrency: { type: 'string', default: '16' },
      kind: { type: 'string', default: 'onedrive' },
      'graph-url': { type: 'string' },
      'drive-id': { type: 'string' },
      'remote-root': { type: 'string', default: '/vmb' },
      'chunk-size': { type: 'string', default: String(32 * 327_680) },
      'simple-max': { type: 'string', default: String(4 * 1024 * 1024) },
      'local-root': { type: 'string' },
      'database-url': { type: 'string' },
      'key-kind': { type: 'string', default: 'local' },
    },
  });
  const spec = JSON.parse(values.spec ?? 'null') as GridSpec;
  if (!spec) throw new Error('--spec is required');
  let result: { ms: number; files: number; bytes: number };
  switch (positionals[0]) {
    case 'hash':
      result = await hashFloor(spec, Number(values.threads), Number(values.concurrency));
      break;
    case 'target':
      result =
        values.kind === 'local'
          ? await localFloor(spec, values['local-root']!, Number(values.concurrency))
          : await graphFloor(spec, {
              graphUrl: values['graph-url']!,
              driveId: values['drive-id']!,
              remoteRoot: values['remote-root']!,
              concurrency: Number(values.concurrency),
              chunkSize: Number(values['chunk-size']),
              simpleMax: Number(values['simple-max']),
            });
      break;
    case 'copy':
      result = await copyFloor(spec, { databaseUrl: values['database-url']!, driveId: values['drive-id']!, remoteRoot: values['remote-root']!, keyKind: values['key-kind'] as 'local' | 'onedrive' });
      break;
    default:
      throw new Error(`unknown floor ${positionals[0]}: use hash, target or copy`);
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (isMainThread) {
  main().catch((err) => {
    process.stderr.write(`floors: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
} else {
  parentPort!.once('message', () => {
    hashShare(workerData as HashJob).then((r) => parentPort!.postMessage(r));
  });
}
