/**
 * The reference importer: the old recipe, kept only to be measured against.
 *
 *   node dist/bench/reference-importer.js <dir> --database-url URL --concurrency N
 *        --target onedrive --graph-url U --drive-id D [--remote-root /vmb] [--chunk-size B] [--simple-max B]
 *        --target local --local-root DIR
 *        [--limit N]   only the first N files in path order (all folders)
 *
 * For every item, N at a time: a fresh pg.Client connection; the upload (a PUT to the drive, or an
 * upload session for big files; a copy for the local target); then in one transaction an INSERT of
 * the row and `UPDATE parent SET child_count = (SELECT count(*) …)`; COMMIT; close. Folders go
 * first, level by level, the same way. It writes to `reference.vmb_items` in the database it is
 * given (the benchmark gives it a database of its own) and never touches the real ledger.
 * Prints one JSON line: { ms, files, bytes, folders, failed, firstError }.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { QuickXorHash } from '../src/hash/quickxorhash.js';
import { eachLimit, miniGraph, type MiniGraph } from './lib/graph-http.js';
import { REFERENCE_DDL } from './lib/reference-sql.js';

interface Dir {
  rel: string;
  parentRel: string | null;
  name: string;
  corp: number;
  depth: number;
}

interface File {
  abs: string;
  rel: string;
  dirRel: string;
  name: string;
  corp: number;
  size: number;
  mtimeMs: number;
}

const INSERT = `INSERT INTO reference.vmb_items
  (corp_index, drive_id, remote_root, onedrive_item_id, parent_item_id, name, remote_path, is_folder, size_bytes, content_hash, local_hash, source_path, source_size, source_mtime)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`;
const BUMP = `UPDATE reference.vmb_items SET child_count = (SELECT count(*) FROM reference.vmb_items WHERE parent_item_id = $1), updated_at = now()
  WHERE onedrive_item_id = $1`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'database-url': { type: 'string' },
      concurrency: { type: 'string', default: '32' },
      target: { type: 'string', default: 'local' },
      'local-root': { type: 'string' },
      'graph-url': { type: 'string' },
      'drive-id': { type: 'string' },
      'remote-root': { type: 'string', default: '/vmb' },
      'chunk-size': { type: 'string', default: String(32 * 327_680) },
      'simple-max': { type: 'string', default: String(4 * 1024 * 1024) },
      limit: { type: 'string' },
    },
  });
  const root = path.resolve(positionals[0] ?? '.');
  const databaseUrl = values['database-url']!;
  const n = Number(values.concurrency);
  const chunkSize = Number(values['chunk-size']);
  const simpleMax = Number(values['simple-max']);
  const local = values.target === 'local';
  const localRoot = local ? path.resolve(values['local-root']!) : '';
  const driveId = local ? `local:${localRoot}` : values['drive-id']!;
  const remoteRoot = local ? '/' : values['remote-root']!;
  const graph: MiniGraph | null = local ? null : miniGraph(values['graph-url']!, driveId, process.env.VMB_GRAPH_TOKEN ?? '', n);

  const started = performance.now();
  const setup = new pg.Client({ connectionString: databaseUrl, application_name: 'reference/setup' });
  await setup.connect();
  await setup.query(REFERENCE_DDL);
  await setup.end();

  // The walk: every directory and file, with lstat for size and mtime.
  const dirs: Dir[] = [];
  const files: File[] = [];
  for (const ent of await readdir(root, { withFileTypes: true, recursive: true })) {
    const abs = path.join(ent.parentPath, ent.name);
    const rel = path.relative(root, abs).split(path.sep).join('/');
    const parts = rel.split('/');
    const corp = Number(parts[0]);
    const parentRel = parts.length > 1 ? parts.slice(0, -1).join('/') : null;
    if (ent.isDirectory()) dirs.push({ rel, parentRel, name: ent.name, corp, depth: parts.length });
    else if (ent.isFile() && parentRel !== null) files.push({ abs, rel, dirRel: parentRel, name: ent.name, corp, size: 0, mtimeMs: 0 });
  }
  // --limit: only the first files in path order (every folder is still created and recorded).
  files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  if (values.limit !== undefined) files.splice(Number(values.limit));
  for (const f of files) {
    const st = await lstat(f.abs);
    f.size = st.size;
    f.mtimeMs = st.mtimeMs;
  }

  const ids = new Map<string, string>();
  const rootId = graph ? await graph.rootId(remoteRoot) : null;
  const localId = (rel: string) => `local-${createHash('sha256').update(driveId).update('\0').update(rel).digest('hex').slice(0, 32)}`;

  /** The recipe's database half: connect, insert, recount the parent, commit, close. */
  const record = async (values: unknown[], parentId: string | null) => {
    const c = new pg.Client({ connectionString: databaseUrl, application_name: 'reference/item' });
    c.on('error', () => undefined);
    await c.connect();
    try {
      await c.query('BEGIN');
      await c.query(INSERT, values);
      if (parentId !== null) await c.query(BUMP, [parentId]);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      await c.end().catch(() => undefined);
    }
  };

  let failed = 0;
  let firstError: string | null = null;
  const guard = (work: () => Promise<void>) =>
    work().catch((err: unknown) => {
      failed++;
      firstError ??= (err as Error)?.message ?? String(err);
    });

  const maxDepth = dirs.reduce((m, d) => Math.max(m, d.depth), 0);
  for (let depth = 1; depth <= maxDepth; depth++) {
    await eachLimit(
      dirs.filter((d) => d.depth === depth),
      n,
      (d) =>
        guard(async () => {
          const parentId = d.parentRel === null ? null : ids.get(d.parentRel)!;
          let id: string;
          if (graph) id = await graph.folder(parentId ?? rootId!, d.name);
          else {
            await mkdir(path.join(localRoot, d.rel), { recursive: true });
            id = localId(d.rel);
          }
          ids.set(d.rel, id);
          await record([d.corp, driveId, remoteRoot, id, parentId, d.name, d.rel, true, null, null, null, d.rel, null, null], parentId);
        }),
    );
  }

  let bytes = 0;
  await eachLimit(files, n, (f) =>
    guard(async () => {
      const parentId = ids.get(f.dirRel);
      if (!parentId) throw new Error(`no folder for ${f.rel}`);
      const hash = new QuickXorHash();
      let item: { id: string; quickXorHash?: string };
      const fh = await open(f.abs, 'r');
      try {
        if (graph) {
          item = await graph.upload(
            parentId,
            f.name,
            f.size,
            async (from, length) => {
              const buf = Buffer.allocUnsafe(length);
              let got = 0;
              while (got < length) {
                const { bytesRead } = await fh.read(buf, got, length - got, from + got);
                if (bytesRead === 0) throw new Error(`${f.rel} is shorter than ${f.size} bytes`);
                got += bytesRead;
              }
              hash.update(buf);
              return buf;
            },
            chunkSize,
            simpleMax,
          );
        } else {
          const out = await open(path.join(localRoot, f.rel), 'w');
          const buf = Buffer.allocUnsafe(Math.min(1024 * 1024, f.size + 1));
          try {
            for (;;) {
              const { bytesRead } = await fh.read(buf, 0, buf.length, null);
              if (bytesRead === 0) break;
              hash.update(buf.subarray(0, bytesRead));
              await out.write(buf, 0, bytesRead);
            }
          } finally {
            await out.close();
          }
          item = { id: localId(f.rel) };
        }
      } finally {
        await fh.close();
      }
      const localHash = hash.digestBase64();
      await record(
        [f.corp, driveId, remoteRoot, item.id, parentId, f.name, f.rel, false, f.size, item.quickXorHash ?? localHash, localHash, f.rel, f.size, new Date(Math.trunc(f.mtimeMs)).toISOString()],
        parentId,
      );
      bytes += f.size;
    }),
  );
  graph?.close();
  process.stdout.write(`${JSON.stringify({ ms: performance.now() - started, files: files.length, bytes, folders: dirs.length, failed, firstError })}\n`);
}

main().catch((err) => {
  process.stderr.write(`reference-importer: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 1;
});
