import type { Stats } from 'node:fs';
import type { Problem } from './kinds.js';

/** A directory's identity, whatever path (or link) leads to it. */
export const identityOf = (stats: Stats): string => `${stats.dev}:${stats.ino}`;

/**
 * The bookkeeping that keeps --follow-symlinks from walking in circles or twice: only links can
 * lead back into the tree, so directories are tracked by identity only when they are followed.
 */
export class LoopGuard {
  /** Directories on the current path from the root, by identity, to their relPath. */
  private readonly onPath = new Map<string, string>();
  /** Every directory walked so far, so two links to one directory yield it once. Grows with the directory count, not the file count. */
  private readonly seen = new Map<string, string>();

  /** Why the directory `identity` must not be descended now, if it must not. */
  refusal(identity: string): Problem | undefined {
    const ancestor = this.onPath.get(identity);
    if (ancestor !== undefined) {
      return { code: 'symlink-loop', reason: `leads back to ${describeRel(ancestor)}, which contains it: not descended` };
    }
    const first = this.seen.get(identity);
    if (first !== undefined) {
      return { code: 'symlink-duplicate', reason: `same directory as ${describeRel(first)}, which was already walked` };
    }
    return undefined;
  }

  enter(identity: string, relPath: string): void {
    this.onPath.set(identity, relPath);
    this.seen.set(identity, relPath);
  }

  leave(identity: string): void {
    this.onPath.delete(identity);
  }
}

const describeRel = (relPath: string) => (relPath === '' ? 'the import root' : `'${relPath}'`);
