import { createHash } from 'node:crypto';
import { lstatSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { copyLine } from '../../src/ledger/copy-text.js';
import { quickXorHashBase64 } from '../../src/hash/quickxorhash.js';
import { gridDirs, gridFiles, type GridSpec } from './datasets.js';

/** Which drive the rows belong to, as the importer stores it (`vmb_items.drive_id`, `remote_root`). */
export interface DriveKey {
  driveId: string;
  remoteRoot: string;
  /** 'local': item ids as LocalDrive derives them; otherwise made-up unique ids. */
  kind: 'local' | 'onedrive';
}

export const ITEM_COLUMNS =
  'corp_index, drive_id, remote_root, onedrive_item_id, parent_item_id, name, remote_path, is_folder, size_bytes, content_hash, local_hash, source_path, source_size, source_mtime, child_count, import_run_id';

const EMPTY_HASH = quickXorHashBase64(new Uint8Array(0));
/** Same length as a real quickXorHash; the COPY floor measures bytes moved, not hash values. */
const PLACEHOLDER_HASH = 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=';

export function itemIdFor(key: DriveKey, remotePath: string): string {
  if (key.kind === 'local') return `local-${createHash('sha256').update(key.driveId).update('\0').update(remotePath).digest('hex').slice(0, 32)}`;
  return `seed-${createHash('sha1').update(remotePath).digest('hex').slice(0, 24)}`;
}

/**
 * Every row a finished import of `spec` leaves in `corporate.vmb_items`, folders first, in COPY
 * text: the same remote_path (corp index, then the names below it), the same drive_id/remote_root,
 * source_size and source_mtime (ms, as the worker's lstat saw it) that the planner compares, and
 * exact child counts. Files of a data set without a fixed mtime are stat'ed here.
 */
export function* itemLines(spec: GridSpec, key: DriveKey): Generator<string> {
  const children = new Map<string, number>();
  const fileCountPerDir = spec.filesPerDir;
  for (const d of gridDirs(spec)) {
    if (d.parentRel !== null) children.set(d.parentRel, (children.get(d.parentRel) ?? 0) + 1);
  }
  for (const d of gridDirs(spec)) {
    const isLeaf = d.rel.split('/').length === (spec.subfolders > 0 ? 3 : 2);
    const childCount = (children.get(d.rel) ?? 0) + (isLeaf ? fileCountPerDir : 0);
    yield copyLine([
      d.corp, key.driveId, key.remoteRoot, itemIdFor(key, d.rel), d.parentRel === null ? null : itemIdFor(key, d.parentRel), d.name, d.rel, true,
      null, null, null, d.rel, null, null, childCount, null,
    ]);
  }
  for (const f of gridFiles(spec)) {
    const mtimeMs = spec.fixedMtimeMs ?? Math.trunc(lstatSync(path.join(spec.root, f.rel)).mtimeMs);
    const hash = spec.size === 0 ? EMPTY_HASH : PLACEHOLDER_HASH;
    yield copyLine([
      f.corp, key.driveId, key.remoteRoot, itemIdFor(key, f.rel), itemIdFor(key, f.dirRel), f.name, f.rel, false,
      spec.size, hash, hash, f.rel, spec.size, new Date(mtimeMs).toISOString(), 0, null,
    ]);
  }
}

/** Lines grouped into ~256 KiB strings, so the COPY stream is not one write per row. */
function* chunked(lines: Iterable<string>): Generator<string> {
  let buf = '';
  for (const line of lines) {
    buf += line;
    if (buf.length >= 256 * 1024) {
      yield buf;
      buf = '';
    }
  }
  if (buf) yield buf;
}

/** One COPY of `lines` straight into corporate.vmb_items, in one transaction. */
export async function copyItems(client: pg.Client, lines: Iterable<string>): Promise<void> {
  await client.query('BEGIN');
  try {
    await pipeline(Readable.from(chunked(lines)), client.query(copyStreams.from(`COPY corporate.vmb_items (${ITEM_COLUMNS}) FROM STDIN`)));
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
