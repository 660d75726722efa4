import type { LedgerEntry } from '../ledger/statements.js';
import type { WalkEntry } from '../walk/walk.js';
import type { Code, FileTask, FolderTask } from '../types.js';
import type { PlanAction } from './accounting.js';
import type { CorpLayout } from './corp-layout.js';

export type PlannedItem =
  | { action: 'upload-new' | 'upload-changed'; task: FileTask; remotePath: string }
  | { action: 'create-folder'; task: FolderTask; remotePath: string }
  | { action: 'unchanged'; path: string; isFolder: false; absPath: string; size: number; mtimeMs: number }
  | { action: 'unchanged'; path: string; isFolder: true }
  | { action: 'skip'; path: string; isDir: boolean; code: Code; reason: string }
  | { action: 'defer'; path: string; reason: string };

export interface PlannerOptions {
  layout: CorpLayout;
  /** Ledger rows for these remote paths; one round trip per batch, never per file. */
  lookup: (remotePaths: string[]) => Promise<Map<string, LedgerEntry>>;
  /** Why a remote path cannot be used on the target (too long), or null. */
  checkPath: (remotePath: string) => string | null;
  /** Files modified more recently than this are left for a later run. */
  minAgeMs: number;
  /** Same size and mtime is not enough: compare content hashes (in the worker threads). */
  checksum: boolean;
  /** Target paths with an upload session an earlier run left open, which their tasks try to continue. */
  savedSessions?: ReadonlySet<string>;
  now: () => number;
}

type Placed =
  | { entry: Extract<WalkEntry, { kind: 'file' }>; corpIndex: number; remote: string[] }
  | { entry: Extract<WalkEntry, { kind: 'dir' }>; corpIndex: number; remote: string[] };

/**
 * Classifies one batch of walked entries against the ledger: new, changed, unchanged, deferred,
 * or skipped with its reason. Pure apart from the one lookup per batch.
 */
export async function planBatch(entries: WalkEntry[], options: PlannerOptions): Promise<PlannedItem[]> {
  const out: PlannedItem[] = [];
  const placed: Placed[] = [];
  const now = options.now();
  for (const entry of entries) {
    if (entry.kind === 'skip') {
      out.push({ action: 'skip', path: entry.relPath, isDir: entry.isDir, code: entry.code, reason: entry.reason });
      continue;
    }
    const where = options.layout.place(entry.relPath, entry.kind === 'dir');
    if (!where.ok) {
      // A directory that cannot be placed is reported through each file below it.
      if (entry.kind === 'file') out.push({ action: 'skip', path: entry.relPath, isDir: false, code: where.code, reason: where.reason });
      continue;
    }
    if (entry.kind === 'file' && options.minAgeMs > 0 && entry.mtimeMs > now - options.minAgeMs) {
      out.push({ action: 'defer', path: entry.relPath, reason: `modified ${Math.round((now - entry.mtimeMs) / 1000)}s ago, younger than --min-age` });
      continue;
    }
    placed.push({ entry, corpIndex: where.corpIndex, remote: where.remote } as Placed);
  }
  if (placed.length === 0) return out;

  const ledger = await options.lookup(placed.map((p) => p.remote.join('/')));
  for (const p of placed) {
    const remotePath = p.remote.join('/');
    const unusable = options.checkPath(remotePath);
    if (unusable) {
      out.push({ action: 'skip', path: p.entry.relPath, isDir: p.entry.kind === 'dir', code: 'remote-path-too-long', reason: unusable });
      continue;
    }
    const row = ledger.get(remotePath);
    if (p.entry.kind === 'dir') {
      if (row?.isFolder) out.push({ action: 'unchanged', path: p.entry.relPath, isFolder: true });
      else if (row) out.push({ action: 'skip', path: p.entry.relPath, isDir: true, code: 'type-conflict', reason: `the ledger holds a file at ${remotePath}, the source is a directory` });
      else out.push({ action: 'create-folder', remotePath, task: { kind: 'folder', sourcePath: p.entry.relPath, corpIndex: p.corpIndex, folders: p.remote } });
      continue;
    }
    const e = p.entry;
    if (row?.isFolder) {
      out.push({ action: 'skip', path: e.relPath, isDir: false, code: 'type-conflict', reason: `the ledger holds a folder at ${remotePath}, the source is a file` });
      continue;
    }
    const sameStat = row !== undefined && row.sourceSize === e.size && row.sourceMtimeMs === Math.trunc(e.mtimeMs);
    if (sameStat && !options.checksum) {
      out.push({ action: 'unchanged', path: e.relPath, isFolder: false, absPath: e.absPath, size: e.size, mtimeMs: e.mtimeMs });
      continue;
    }
    const expectLocalHash = options.checksum && row?.sourceSize === e.size && row.localHash ? row.localHash : undefined;
    const action: PlanAction = row ? 'upload-changed' : 'upload-new';
    out.push({
      action: action as 'upload-new' | 'upload-changed',
      remotePath,
      task: {
        kind: 'file',
        absPath: e.absPath,
        sourcePath: e.relPath,
        corpIndex: p.corpIndex,
        folders: p.remote.slice(0, -1),
        name: p.remote[p.remote.length - 1],
        size: e.size,
        mtimeMs: e.mtimeMs,
        ...(expectLocalHash ? { expectLocalHash } : {}),
        ...(options.savedSessions?.has(remotePath) ? { savedSession: true as const } : {}),
      },
    });
  }
  return out;
}
