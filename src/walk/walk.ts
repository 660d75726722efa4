import type { Dirent, Stats } from 'node:fs';
import { lstat, opendir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { compileFilter, type PathFilter } from './filters.js';
import { describeKind, kindOf, specialSkip, type Problem } from './kinds.js';
import { decodeName, escapeNameBytes } from './names.js';

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
  | { kind: 'skip'; absPath: string; relPath: string; isDir: boolean; code: string; reason: string };

type SkipEntry = Extract<WalkEntry, { kind: 'skip' }>;

/** @types/node does not model `encoding: 'buffer'` for opendir; at run time each Dirent's name is then a Buffer. */
interface RawDir {
  read(): Promise<Dirent<Buffer> | null>;
  close(): Promise<void>;
}

const openRawDir = async (dirPath: string) =>
  (await opendir(dirPath, { encoding: 'buffer' as BufferEncoding })) as unknown as RawDir;

/**
 * One directory being listed. The walk keeps one open Dir handle (one file descriptor) per level
 * of the current path, so a tree N levels deep holds N descriptors: 200 levels is far below the
 * usual limit of 1024, and an EMFILE on a deeper tree is reported as an 'unreadable' directory.
 */
interface Frame {
  dir: RawDir;
  absPath: string;
  relPath: string;
  depth: number;
  /** `dev:ino`, only known when following symlinks (the only case where the walk can loop). */
  key?: string;
}

interface Walker {
  filter: PathFilter;
  hidden: boolean;
  follow: boolean;
  maxSize: number;
  /** Directories on the current path from the root, by `dev:ino`, to their relPath. */
  onPath: Map<string, string>;
  /** Every directory walked so far, so two links to one directory yield it once. Grows with the directory count, not the file count. */
  seen: Map<string, string>;
}

type Step = { entry: WalkEntry; frame?: Frame };

/**
 * Lazily walks the tree below `options.root`, depth first, yielding each directory before its
 * contents. Memory is bounded by the depth of the tree (plus the directory count when following
 * symlinks), never by the size of a directory. Aborting makes the next step throw `signal.reason`.
 */
export async function* walk(options: WalkOptions): AsyncGenerator<WalkEntry> {
  const root = path.resolve(options.root);
  const rootStats = await stat(root);
  if (!rootStats.isDirectory()) {
    throw Object.assign(new Error(`ENOTDIR: import root is not a directory: ${root}`), { code: 'ENOTDIR', path: root });
  }
  const walker: Walker = {
    filter: compileFilter(options.include, options.exclude),
    hidden: options.hidden ?? false,
    follow: options.followSymlinks ?? false,
    maxSize: options.maxSize ?? Number.POSITIVE_INFINITY,
    onPath: new Map(),
    seen: new Map(),
  };
  const signal = options.signal;
  signal?.throwIfAborted();

  const stack: Frame[] = [];
  try {
    const rootFrame: Frame = { dir: await openRawDir(root), absPath: root, relPath: '', depth: 0 };
    stack.push(rootFrame);
    if (walker.follow) enter(walker, rootFrame, `${rootStats.dev}:${rootStats.ino}`);

    while (stack.length > 0) {
      signal?.throwIfAborted();
      const top = stack[stack.length - 1]!;
      let dirent: Dirent<Buffer> | null;
      try {
        dirent = await top.dir.read();
      } catch (err) {
        // The root failing is the whole run failing; a subdirectory failing is one more skip.
        if (top === rootFrame) throw err;
        await leave(walker, stack);
        yield skipOf(top.absPath, top.relPath, true, 'unreadable', `reading the directory failed part way: ${errorText(err)}`);
        continue;
      }
      if (dirent === null) {
        await leave(walker, stack);
        continue;
      }
      const step = await examine(walker, top, dirent);
      if (step === undefined) continue;
      // Pushed before yielding, so the handle is closed even if the consumer stops at this entry.
      if (step.frame) stack.push(step.frame);
      yield step.entry;
    }
  } finally {
    // A close failure here must not hide the error (or early return) that brought us here.
    while (stack.length > 0) await leave(walker, stack).catch(() => undefined);
  }
}

function enter(walker: Walker, frame: Frame, key: string): void {
  frame.key = key;
  walker.onPath.set(key, frame.relPath);
  walker.seen.set(key, frame.relPath);
}

async function leave(walker: Walker, stack: Frame[]): Promise<void> {
  const frame = stack.pop()!;
  if (frame.key !== undefined) walker.onPath.delete(frame.key);
  await frame.dir.close();
}

/** Decides what one directory entry becomes: an entry to yield (and maybe a directory to descend), or nothing when filtered out. */
async function examine(walker: Walker, parent: Frame, dirent: Dirent<Buffer>): Promise<Step | undefined> {
  const name = decodeName(dirent.name);
  // A bad name's lossy form cannot open the entry, but it is enough to report it and to apply the
  // filters, so an excluded bad name is dropped like any other excluded name.
  const shownName = name ?? dirent.name.toString('utf8');
  const absPath = path.join(parent.absPath, shownName);
  const relPath = joinRel(parent.relPath, shownName);
  if (name === undefined) {
    const isDir = dirent.isDirectory();
    if (!walker.filter.wanted(relPath, isDir)) return undefined;
    const reason = `name is not valid UTF-8 (invalid bytes shown as \\xNN): ${escapeNameBytes(dirent.name)}`;
    return { entry: skipOf(absPath, relPath, isDir, 'name-not-utf8', reason) };
  }

  let kind = kindOf(dirent);
  let target: Stats | undefined;
  let linkSkip: Problem | undefined;
  if (kind === 'symlink' && walker.follow) {
    try {
      target = await stat(absPath);
      kind = kindOf(target);
    } catch (err) {
      linkSkip = await unresolvableLink(absPath, err);
    }
  }
  const isDir = kind === 'dir';
  if (!walker.filter.wanted(relPath, isDir)) return undefined;
  const skip = (code: string, reason: string): Step => ({ entry: skipOf(absPath, relPath, isDir, code, reason) });

  if (!walker.hidden && name.startsWith('.')) {
    return skip('hidden', `hidden ${isDir ? 'directory' : 'file'} (name starts with '.'); set hidden to include it`);
  }
  if (linkSkip) return skip(linkSkip.code, linkSkip.reason);
  if (kind === 'symlink') return skip('symlink', `${await linkText(absPath)} not followed (followSymlinks is off)`);
  const special = specialSkip(kind);
  if (special) return skip(special.code, special.reason);

  if (kind === 'file') {
    const stats = target ?? (await statOrSkip(absPath, 'file'));
    if (isProblem(stats)) return skip(stats.code, stats.reason);
    if (stats.size > walker.maxSize) {
      return skip('too-large', `file is ${stats.size} bytes, more than the maximum of ${walker.maxSize} bytes`);
    }
    return {
      entry: { kind: 'file', absPath, relPath, size: stats.size, mtimeMs: stats.mtimeMs, dev: stats.dev, ino: stats.ino },
    };
  }

  let key: string | undefined;
  if (walker.follow) {
    const stats = target ?? (await statOrSkip(absPath, 'dir'));
    if (isProblem(stats)) return skip(stats.code, stats.reason);
    key = `${stats.dev}:${stats.ino}`;
    const ancestor = walker.onPath.get(key);
    if (ancestor !== undefined) {
      return skip('symlink-loop', `leads back to ${describeRel(ancestor)}, which contains it: not descended`);
    }
    const first = walker.seen.get(key);
    if (first !== undefined) {
      return skip('symlink-duplicate', `same directory as ${describeRel(first)}, which was already walked`);
    }
  }
  let dir: RawDir;
  try {
    dir = await openRawDir(absPath);
  } catch (err) {
    const failure = dirOpenFailure(err);
    return skip(failure.code, failure.reason);
  }
  const frame: Frame = { dir, absPath, relPath, depth: parent.depth + 1 };
  if (key !== undefined) enter(walker, frame, key);
  return { entry: { kind: 'dir', absPath, relPath, depth: frame.depth }, frame };
}

/** lstat for an entry the listing said was `expected`; a vanished or changed entry becomes a skip. */
async function statOrSkip(absPath: string, expected: 'file' | 'dir'): Promise<Stats | Problem> {
  let stats: Stats;
  try {
    stats = await lstat(absPath);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return { code: 'vanished', reason: `${describeKind(expected)} disappeared while being walked (ENOENT)` };
    return { code: 'unreadable', reason: `cannot read the ${describeKind(expected)}'s metadata: ${errorText(err)}` };
  }
  const now = kindOf(stats);
  if (now !== expected) {
    return { code: 'vanished', reason: `${describeKind(expected)} was replaced by a ${describeKind(now)} while being walked` };
  }
  return stats;
}

function dirOpenFailure(err: unknown): Problem {
  switch (errorCode(err)) {
    case 'EACCES':
    case 'EPERM':
      return { code: 'unreadable', reason: `directory cannot be read: permission denied (${errorCode(err)})` };
    case 'ENOENT':
      return { code: 'vanished', reason: 'directory disappeared before it could be opened (ENOENT)' };
    case 'ENOTDIR':
      return { code: 'vanished', reason: 'directory was replaced by something else before it could be opened (ENOTDIR)' };
    default:
      return { code: 'unreadable', reason: `directory cannot be opened: ${errorText(err)}` };
  }
}

async function unresolvableLink(absPath: string, err: unknown): Promise<Problem> {
  const link = await linkText(absPath);
  switch (errorCode(err)) {
    case 'ENOENT':
    case 'ENOTDIR':
      return { code: 'broken-symlink', reason: `${link} points to nothing (${errorCode(err)})` };
    case 'ELOOP':
      return { code: 'symlink-loop', reason: `${link} never resolves: the chain of links loops (ELOOP)` };
    default:
      return { code: 'unreadable', reason: `${link} cannot be followed: ${errorText(err)}` };
  }
}

/** "symbolic link to 'target'", or just "symbolic link" when even the link cannot be read. */
async function linkText(absPath: string): Promise<string> {
  try {
    return `symbolic link to '${await readlink(absPath)}'`;
  } catch {
    return 'symbolic link';
  }
}

const isProblem = (value: Stats | Problem): value is Problem => 'reason' in value;

const joinRel = (parentRel: string, name: string) => (parentRel === '' ? name : `${parentRel}/${name}`);

const describeRel = (relPath: string) => (relPath === '' ? 'the import root' : `'${relPath}'`);

const skipOf = (absPath: string, relPath: string, isDir: boolean, code: string, reason: string): SkipEntry => ({
  kind: 'skip',
  absPath,
  relPath,
  isDir,
  code,
  reason,
});

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** "EIO: i/o error" style text without the path, which the entry already carries. */
function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = errorCode(err);
  const message = err.message.replace(/, \w+ '.*'$/s, '');
  return code !== undefined && !message.startsWith(code) ? `${code}: ${message}` : message;
}
