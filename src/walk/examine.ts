import { lstat, readlink, stat, type Dirent, type Stats } from 'node:fs';
import path from 'node:path';
import type { Code } from '../types.js';
import { classify, sizeProblem, type Rules, type Verdict } from './classify.js';
import { linkFailure, statFailure } from './errno.js';
import { describeKind, kindOf, type Problem } from './kinds.js';
import { identityOf } from './loops.js';
import { decodeName } from './names.js';
import { Slot } from './read-ahead.js';
import type { WalkEntry } from './walk.js';

/** A directory to descend once its turn comes: the loop checks and opening it must happen in walk order. */
export interface Descent {
  absPath: string;
  relPath: string;
  /** Its identity, when following symlinks (see loops.ts). */
  identity?: string;
}

/** What examining one listed entry found, ahead of its turn: nothing (filtered out), a finished entry, or a directory still to be descended. */
export type Examined = undefined | { entry: WalkEntry } | { descend: Descent };

/**
 * Starts finding out what one directory entry becomes. It runs ahead of the entry's turn, so it
 * only looks at the entry itself; whatever depends on the walk so far (the loop checks, opening
 * the directory) is left to the walk. No promise is made: nearly every entry is decided with the
 * listing's answer and at most one lstat by callback, a link being followed with one stat more,
 * and a link skipped with one readlink for its reason.
 */
export function examine(rules: Rules, parentAbs: string, parentRel: string, dirent: Dirent<Buffer>): Slot<Examined> {
  const name = decodeName(dirent.name);
  // A bad name's lossy form cannot open the entry, but it is enough to report it and to apply the filters.
  const shownName = name ?? dirent.name.toString('utf8');
  const absPath = path.join(parentAbs, shownName);
  const relPath = joinRel(parentRel, shownName);
  const kind = kindOf(dirent);
  const slot = new Slot<Examined>();
  if (kind === 'symlink' && rules.follow && name !== undefined) {
    // stat, not lstat: what the link points to is what the rules judge.
    stat(absPath, (err, target) => {
      try {
        const targetKind = err ? kind : kindOf(target);
        const verdict = classify(rules, relPath, name, dirent.name, targetKind, err ? linkFailure(err) : undefined);
        decide(slot, rules, absPath, relPath, targetKind === 'dir', verdict, err ? undefined : target);
      } catch (failure) {
        slot.fail(failure);
      }
    });
  } else {
    decide(slot, rules, absPath, relPath, kind === 'dir', classify(rules, relPath, name, dirent.name, kind, undefined), undefined);
  }
  return slot;
}

/** Carries a verdict out: at once when nothing more is needed, else from one fs callback. `target` is a followed link's stats. */
function decide(slot: Slot<Examined>, rules: Rules, absPath: string, relPath: string, isDir: boolean, verdict: Verdict, target: Stats | undefined): void {
  if (verdict === undefined) return slot.settle(undefined);
  // Without links, a directory's identity is never needed.
  if (verdict === 'dir' && !rules.follow) return slot.settle({ descend: { absPath, relPath } });
  if (verdict === 'file' || verdict === 'dir') {
    if (target !== undefined) return slot.settle(fromStats(rules, absPath, relPath, verdict, target));
    // The callback form: no promise per file, and this is the one call made for nearly every entry.
    lstat(absPath, (err, stats) => {
      try {
        slot.settle(fromStats(rules, absPath, relPath, verdict, err ? statFailure(err, verdict) : checkKind(stats, verdict)));
      } catch (failure) {
        slot.fail(failure);
      }
    });
    return;
  }
  if ('afterLink' in verdict) {
    readlink(absPath, (err, linkTarget) => {
      const link = err ? 'symbolic link' : `symbolic link to '${linkTarget}'`;
      slot.settle({ entry: skipOf(absPath, relPath, isDir, verdict.code, `${link} ${verdict.afterLink}`) });
    });
    return;
  }
  slot.settle({ entry: skipOf(absPath, relPath, isDir, verdict.code, verdict.reason) });
}

/** A file's entry or a directory's descent from its stats, or the skip its stats (or the failure to get them) call for. */
function fromStats(rules: Rules, absPath: string, relPath: string, expected: 'file' | 'dir', stats: Stats | Problem): Examined {
  if (isProblem(stats)) return { entry: skipOf(absPath, relPath, expected === 'dir', stats.code, stats.reason) };
  if (expected === 'dir') return { descend: { absPath, relPath, identity: identityOf(stats) } };
  const tooLarge = sizeProblem(rules, stats.size);
  if (tooLarge) return { entry: skipOf(absPath, relPath, false, tooLarge.code, tooLarge.reason) };
  return { entry: { kind: 'file', absPath, relPath, size: stats.size, mtimeMs: stats.mtimeMs, dev: stats.dev, ino: stats.ino } };
}

/** The listing said `expected`; an entry replaced since then becomes a skip. */
function checkKind(stats: Stats, expected: 'file' | 'dir'): Stats | Problem {
  const now = kindOf(stats);
  if (now !== expected) {
    return { code: 'vanished', reason: `${describeKind(expected)} was replaced by a ${describeKind(now)} while being walked` };
  }
  return stats;
}

const isProblem = (value: Stats | Problem): value is Problem => 'reason' in value;

const joinRel = (parentRel: string, name: string) => (parentRel === '' ? name : `${parentRel}/${name}`);

export const skipOf = (absPath: string, relPath: string, isDir: boolean, code: Code, reason: string): Extract<WalkEntry, { kind: 'skip' }> => ({
  kind: 'skip',
  absPath,
  relPath,
  isDir,
  code,
  reason,
});
