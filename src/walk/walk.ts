import { lstat as lstatCallback, type Dirent, type Stats } from 'node:fs';
import { lstat, opendir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { compileFilter, type PathFilter } from './filters.js';
import { describeKind, kindOf, specialSkip, type NodeKind, type Problem } from './kinds.js';
import { decodeName, escapeNameBytes } from './names.js';
import type { Code } from '../types.js';

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

type SkipEntry = Extract<WalkEntry, { kind: 'skip' }>;

/** @types/node does not model `encoding: 'buffer'` for opendir; at run time each Dirent's name is then a Buffer. */
interface RawDir {
  /** The callback form: it spares a promise per entry. */
  read(callback: (err: Error | null, dirent: Dirent<Buffer> | null) => void): void;
  close(): Promise<void>;
}

/**
 * How many entries of one directory are read ahead of the one being yielded. Each is examined as
 * soon as it is read, so up to this many `lstat`s are in flight together instead of one after
 * another. They run on the libuv threadpool (4 threads by default), which the importer's file
 * reads share: more would only lengthen its queue, and delay those reads behind it.
 */
export const LOOK_AHEAD = 64;

/** The look-ahead is topped up once it falls to this, so reading the listing happens in bursts. */
const REFILL_AT = LOOK_AHEAD / 2;

/** When the next entry is not examined yet, the walk waits for this many (see `settled`). */
const WAIT_BATCH = 16;

/** Entries Node fetches per readdir call (its default is 32): fewer threadpool round trips per directory. */
const DIR_BUFFER = 128;

const openRawDir = async (dirPath: string) =>
  (await opendir(dirPath, { encoding: 'buffer' as BufferEncoding, bufferSize: DIR_BUFFER })) as unknown as RawDir;

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
  /**
   * Entries read from `dir` but not yet yielded, in listing order, each being examined: at most
   * LOOK_AHEAD per level, so memory grows with depth × LOOK_AHEAD, never with a directory's size.
   */
  ahead: Slot[];
  /** The listing has been read to its end, or has failed (then the last slot says so). */
  ended: boolean;
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

/** A directory to descend once its turn comes: the loop checks and opening it must happen in walk order. */
interface Descent {
  absPath: string;
  relPath: string;
  /** `dev:ino`, when following symlinks. */
  key?: string;
}

/**
 * What examining one listed entry found, ahead of its turn: nothing (filtered out), a finished
 * entry, a directory still to be descended, or the listing itself failing at this point.
 */
type Examined = undefined | { entry: WalkEntry } | { descend: Descent } | { listingFailed: unknown };

/**
 * The outcome of examining one entry, filled in when it is known. A plain object rather than a
 * promise per entry: most outcomes are known at once or come from one lstat callback, and by the
 * time an entry's turn comes its outcome is usually there, so nothing has to be awaited.
 */
class Slot {
  done = false;
  value: Examined = undefined;
  error: unknown = undefined;
  private wake: (() => void) | undefined = undefined;

  static of(value: Examined): Slot {
    const slot = new Slot();
    slot.done = true;
    slot.value = value;
    return slot;
  }

  static from(promise: Promise<Examined>): Slot {
    const slot = new Slot();
    // Both outcomes are observed here, so an entry dropped by an early exit cannot become an unhandled rejection.
    promise.then(
      (value) => slot.settle(value),
      (err: unknown) => slot.fail(err),
    );
    return slot;
  }

  settle(value: Examined): void {
    this.value = value;
    this.finish();
  }

  /** Examining threw, which it is not meant to: the walk rethrows it when the entry's turn comes. */
  fail(err: unknown): void {
    this.error = err ?? new Error('examining a directory entry failed');
    this.finish();
  }

  /** Resolves once the outcome is known. */
  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  /** The outcome; only once done. */
  take(): Examined {
    if (this.error !== undefined) throw this.error;
    return this.value;
  }

  private finish(): void {
    this.done = true;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/**
 * Lazily walks the tree below `options.root`, depth first, yielding each directory before its
 * contents. Memory is bounded by the depth of the tree times LOOK_AHEAD (plus the directory count
 * when following symlinks), never by the size of a directory. Aborting makes the next step throw
 * `signal.reason`.
 *
 * Order: pre-order, in directory-listing order (the order the file system returns the names, not
 * sorted). A directory's entry is followed at once by everything below it, then by the siblings
 * listed after it; the root itself is never yielded. Entries are examined concurrently (up to
 * LOOK_AHEAD of them per directory) but always yielded in this order, so it never depends on timing.
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
    const rootFrame = newFrame(await openRawDir(root), root, '', 0);
    stack.push(rootFrame);
    if (walker.follow) enter(walker, rootFrame, `${rootStats.dev}:${rootStats.ino}`);

    while (stack.length > 0) {
      signal?.throwIfAborted();
      const top = stack[stack.length - 1]!;
      if (!top.ended && top.ahead.length <= REFILL_AT) await readAhead(walker, top);
      const slot = top.ahead[0];
      if (slot === undefined) {
        await leave(walker, stack);
        continue;
      }
      if (!slot.done) await settled(top.ahead);
      top.ahead.shift();
      const examined = slot.take();
      if (examined === undefined) continue;
      if ('entry' in examined) {
        yield examined.entry;
        continue;
      }
      if ('listingFailed' in examined) {
        // The root failing is the whole run failing; a subdirectory failing is one more skip.
        if (top === rootFrame) throw examined.listingFailed;
        await leave(walker, stack);
        const reason = `reading the directory failed part way: ${errorText(examined.listingFailed)}`;
        yield skipOf(top.absPath, top.relPath, true, 'unreadable', reason);
        continue;
      }
      const step = await descend(walker, top, examined.descend);
      // Pushed before yielding, so the handle is closed even if the consumer stops at this entry.
      if (step.frame) stack.push(step.frame);
      yield step.entry;
    }
  } finally {
    // A close failure here must not hide the error (or early return) that brought us here. Entries
    // still being examined are dropped: they hold no handles, and their lstats just finish.
    while (stack.length > 0) await leave(walker, stack).catch(() => undefined);
  }
}

/**
 * Waits for the first slot, and for a few after it: lstats finish about in the order they were
 * issued, so waking once per batch rather than once per entry saves event-loop turns, while the
 * rest of the look-ahead keeps the threadpool busy meanwhile.
 */
async function settled(ahead: Slot[]): Promise<void> {
  const last = ahead[Math.min(ahead.length, WAIT_BATCH) - 1]!;
  if (!last.done) await last.wait();
  const first = ahead[0]!;
  if (!first.done) await first.wait();
}

const newFrame = (dir: RawDir, absPath: string, relPath: string, depth: number): Frame => ({
  dir,
  absPath,
  relPath,
  depth,
  ahead: [],
  ended: false,
});

/**
 * Tops the frame's look-ahead up to LOOK_AHEAD: reads entries one after another (a Dir serves one
 * read at a time, most of them from its buffer) and starts examining each as soon as it is read.
 * Never rejects: a failing listing becomes the frame's last slot.
 */
function readAhead(walker: Walker, frame: Frame): Promise<void> {
  return new Promise((resolve) => {
    const stop = (last?: Slot) => {
      frame.ended = true;
      if (last) frame.ahead.push(last);
      resolve();
    };
    const readNext = () => {
      try {
        frame.dir.read(onRead);
      } catch (err) {
        stop(Slot.of({ listingFailed: err }));
      }
    };
    const onRead = (err: Error | null, dirent: Dirent<Buffer> | null) => {
      if (err) return stop(Slot.of({ listingFailed: err }));
      if (dirent === null) return stop();
      let slot: Slot;
      try {
        slot = examine(walker, frame, dirent);
      } catch (failure) {
        slot = new Slot();
        slot.fail(failure);
      }
      frame.ahead.push(slot);
      if (frame.ahead.length < LOOK_AHEAD) readNext();
      else resolve();
    };
    readNext();
  });
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

/**
 * Starts deciding what one directory entry becomes: an entry to yield, a directory to descend, or
 * nothing when filtered out. It runs ahead of the entry's turn, so it only looks at the entry
 * itself; whatever depends on the walk so far (the loop checks, opening the directory) is left
 * to `descend`. Regular files, plain directories and special files are decided here with at most
 * one lstat; names that are not UTF-8 and anything involving a symlink go to `examineInFull`.
 */
function examine(walker: Walker, parent: Frame, dirent: Dirent<Buffer>): Slot {
  const name = decodeName(dirent.name);
  const kind = kindOf(dirent);
  if (name === undefined || kind === 'symlink' || (kind === 'dir' && walker.follow)) {
    return Slot.from(examineInFull(walker, parent, dirent, name));
  }
  const absPath = path.join(parent.absPath, name);
  const relPath = joinRel(parent.relPath, name);
  const isDir = kind === 'dir';
  if (!walker.filter.wanted(relPath, isDir)) return Slot.of(undefined);
  if (!walker.hidden && name.startsWith('.')) return Slot.of(hiddenSkip(absPath, relPath, isDir));
  const special = specialSkip(kind);
  if (special) return Slot.of({ entry: skipOf(absPath, relPath, isDir, special.code, special.reason) });
  if (isDir) return Slot.of({ descend: { absPath, relPath } });

  // The callback form: no promise per file, and this is the one call made for nearly every entry.
  const slot = new Slot();
  lstatCallback(absPath, (err, stats) => {
    try {
      slot.settle(fileOutcome(walker, absPath, relPath, err ? statFailure(err, 'file') : checkKind(stats, 'file')));
    } catch (failure) {
      slot.fail(failure);
    }
  });
  return slot;
}

/** `examine` for every kind of entry, including names that are not UTF-8 and symlinks. */
async function examineInFull(walker: Walker, parent: Frame, dirent: Dirent<Buffer>, name: string | undefined): Promise<Examined> {
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
  const skip = (code: Code, reason: string) => ({ entry: skipOf(absPath, relPath, isDir, code, reason) });

  if (!walker.hidden && name.startsWith('.')) return hiddenSkip(absPath, relPath, isDir);
  if (linkSkip) return skip(linkSkip.code, linkSkip.reason);
  if (kind === 'symlink') return skip('symlink', `${await linkText(absPath)} not followed (followSymlinks is off)`);
  const special = specialSkip(kind);
  if (special) return skip(special.code, special.reason);

  if (kind === 'file') return fileOutcome(walker, absPath, relPath, target ?? (await statOrSkip(absPath, 'file')));

  if (!walker.follow) return { descend: { absPath, relPath } };
  const stats = target ?? (await statOrSkip(absPath, 'dir'));
  if (isProblem(stats)) return skip(stats.code, stats.reason);
  return { descend: { absPath, relPath, key: `${stats.dev}:${stats.ino}` } };
}

const hiddenSkip = (absPath: string, relPath: string, isDir: boolean): Examined => {
  const reason = `hidden ${isDir ? 'directory' : 'file'} (name starts with '.'); set hidden to include it`;
  return { entry: skipOf(absPath, relPath, isDir, 'hidden', reason) };
};

/** A regular file's entry from its stats, or the skip its stats (or the failure to get them) call for. */
function fileOutcome(walker: Walker, absPath: string, relPath: string, stats: Stats | Problem): Examined {
  if (isProblem(stats)) return { entry: skipOf(absPath, relPath, false, stats.code, stats.reason) };
  if (stats.size > walker.maxSize) {
    const reason = `file is ${stats.size} bytes, more than the maximum of ${walker.maxSize} bytes`;
    return { entry: skipOf(absPath, relPath, false, 'too-large', reason) };
  }
  return { entry: { kind: 'file', absPath, relPath, size: stats.size, mtimeMs: stats.mtimeMs, dev: stats.dev, ino: stats.ino } };
}

/** Opens a directory whose turn has come, unless following symlinks has already led to it. */
async function descend(walker: Walker, parent: Frame, { absPath, relPath, key }: Descent): Promise<Step> {
  const skip = (code: Code, reason: string): Step => ({ entry: skipOf(absPath, relPath, true, code, reason) });
  if (key !== undefined) {
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
  const frame = newFrame(dir, absPath, relPath, parent.depth + 1);
  if (key !== undefined) enter(walker, frame, key);
  return { entry: { kind: 'dir', absPath, relPath, depth: frame.depth }, frame };
}

/** lstat for an entry the listing said was `expected`; a vanished or changed entry becomes a skip. */
async function statOrSkip(absPath: string, expected: 'file' | 'dir'): Promise<Stats | Problem> {
  let stats: Stats;
  try {
    stats = await lstat(absPath);
  } catch (err) {
    return statFailure(err, expected);
  }
  return checkKind(stats, expected);
}

function statFailure(err: unknown, expected: 'file' | 'dir'): Problem {
  if (errorCode(err) === 'ENOENT') return { code: 'vanished', reason: `${describeKind(expected)} disappeared while being walked (ENOENT)` };
  return { code: 'unreadable', reason: `cannot read the ${describeKind(expected)}'s metadata: ${errorText(err)}` };
}

function checkKind(stats: Stats, expected: NodeKind): Stats | Problem {
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

const skipOf = (absPath: string, relPath: string, isDir: boolean, code: Code, reason: string): SkipEntry => ({
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
