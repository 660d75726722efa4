import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Code } from '../types.js';
import type { Rules } from './classify.js';
import { dirOpenFailure, listingFailure } from './errno.js';
import { examine, skipOf, type Descent, type Examined } from './examine.js';
import { compileFilter } from './filters.js';
import { identityOf, LoopGuard } from './loops.js';
import { END, ListingFailed, ReadAhead } from './read-ahead.js';

export interface WalkOptions {
  root: string;
  include?: string[];
  exclude?: string[];
  hidden?: boolean;
  followSymlinks?: boolean;
  maxSize?: number;
  signal?: AbortSignal;
}

export type WalkEntry =
  | { kind: 'dir'; absPath: string; relPath: string; depth: number }
  | { kind: 'file'; absPath: string; relPath: string; size: number; mtimeMs: number; dev: number; ino: number }
  | { kind: 'skip'; absPath: string; relPath: string; isDir: boolean; code: Code; reason: string };

/**
 * One directory being listed. The walk keeps one open listing (one file descriptor) per level
 * of the current path, so a tree N levels deep holds N descriptors: 200 levels is far below the
 * usual limit of 1024, and an EMFILE on a deeper tree is reported as an 'unreadable' directory.
 */
interface Frame {
  listing: ReadAhead<Examined>;
  absPath: string;
  relPath: string;
  depth: number;
  /** Its identity, only known when following symlinks (the only case where the walk can loop). */
  identity?: string;
}

/**
 * Lazily walks the tree below `options.root`, depth first, yielding each directory before its
 * contents. Memory is bounded by the depth of the tree times the read-ahead (plus the directory
 * count when following symlinks), never by the size of a directory. Aborting makes the next step
 * throw `signal.reason`. The root must be a directory (see `checkRoot` for the run's own check);
 * otherwise the walk throws the fs error (ENOENT, ENOTDIR).
 *
 * Order: pre-order, in directory-listing order (the order the file system returns the names, not
 * sorted). A directory's entry is followed at once by everything below it, then by the siblings
 * listed after it; the root itself is never yielded. Entries are examined concurrently (see
 * read-ahead.ts) but always yielded in this order, so it never depends on timing.
 */
export async function* walk(options: WalkOptions): AsyncGenerator<WalkEntry> {
  const root = path.resolve(options.root);
  const rules: Rules = {
    filter: compileFilter(options.include, options.exclude),
    hidden: options.hidden ?? false,
    follow: options.followSymlinks ?? false,
    maxSize: options.maxSize ?? Number.POSITIVE_INFINITY,
  };
  const loops = new LoopGuard();
  const rootIdentity = rules.follow ? identityOf(await stat(root)) : undefined;
  const signal = options.signal;
  signal?.throwIfAborted();

  const stack: Frame[] = [];
  try {
    const rootFrame = await open(rules, loops, { absPath: root, relPath: '', identity: rootIdentity }, 0);
    stack.push(rootFrame);

    while (stack.length > 0) {
      signal?.throwIfAborted();
      const top = stack[stack.length - 1]!;
      if (!top.listing.ready()) await top.listing.prepare();
      const examined = top.listing.next();
      if (examined === END) {
        await leave(loops, stack);
        continue;
      }
      if (examined instanceof ListingFailed) {
        // The root failing is the whole run failing; a subdirectory failing is one more skip.
        if (top === rootFrame) throw examined.cause;
        await leave(loops, stack);
        const failure = listingFailure(examined.cause);
        yield skipOf(top.absPath, top.relPath, true, failure.code, failure.reason);
        continue;
      }
      if (examined === undefined) continue;
      if ('entry' in examined) {
        yield examined.entry;
        continue;
      }
      const step = await descend(rules, loops, top, examined.descend);
      // Pushed before yielding, so the handle is closed even if the consumer stops at this entry.
      if (step.frame) stack.push(step.frame);
      yield step.entry;
    }
  } finally {
    // A close failure here must not hide the error (or early return) that brought us here.
    while (stack.length > 0) await leave(loops, stack).catch(() => undefined);
  }
}

type Step = { entry: WalkEntry; frame?: Frame };

/** Opens a directory whose turn has come, unless following symlinks has already led to it. */
async function descend(rules: Rules, loops: LoopGuard, parent: Frame, descent: Descent): Promise<Step> {
  const { absPath, relPath, identity } = descent;
  const refusal = identity === undefined ? undefined : loops.refusal(identity);
  if (refusal) return { entry: skipOf(absPath, relPath, true, refusal.code, refusal.reason) };
  let frame: Frame;
  try {
    frame = await open(rules, loops, descent, parent.depth + 1);
  } catch (err) {
    const failure = dirOpenFailure(err);
    return { entry: skipOf(absPath, relPath, true, failure.code, failure.reason) };
  }
  return { entry: { kind: 'dir', absPath, relPath, depth: frame.depth }, frame };
}

async function open(rules: Rules, loops: LoopGuard, { absPath, relPath, identity }: Descent, depth: number): Promise<Frame> {
  const listing = await ReadAhead.open(absPath, (dirent) => examine(rules, absPath, relPath, dirent));
  if (identity !== undefined) loops.enter(identity, relPath);
  return { listing, absPath, relPath, depth, identity };
}

async function leave(loops: LoopGuard, stack: Frame[]): Promise<void> {
  const frame = stack.pop()!;
  if (frame.identity !== undefined) loops.leave(frame.identity);
  await frame.listing.close();
}
