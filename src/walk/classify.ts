import type { PathFilter } from './filters.js';
import { specialSkip, type LinkProblem, type NodeKind, type Problem } from './kinds.js';
import { escapeNameBytes } from './names.js';

/** The options the rules apply. */
export interface Rules {
  filter: PathFilter;
  hidden: boolean;
  follow: boolean;
  maxSize: number;
}

/**
 * What the rules make of one listed entry:
 * - undefined: excluded by a glob, dropped without a trace;
 * - a Problem: reported as a skip;
 * - a LinkProblem: reported as a skip, once the link's target has been read for its reason;
 * - 'file': imported, once its stats pass `sizeProblem`;
 * - 'dir': descended, once its turn comes and the loop checks allow.
 */
export type Verdict = undefined | Problem | LinkProblem | 'file' | 'dir';

/**
 * The rules, in the order they apply, to what the listing tells of an entry (and, for a link
 * being followed, what following it found): its path, its name (undefined when the bytes are not
 * UTF-8), its kind (the target's, for a link followed), and the failure to follow it, if any.
 * A bad name is never followed, so its kind is the listing's.
 */
export function classify(
  rules: Rules,
  relPath: string,
  name: string | undefined,
  rawName: Buffer,
  kind: NodeKind,
  linkFailure: LinkProblem | undefined,
): Verdict {
  const isDir = kind === 'dir';
  // A bad name's lossy form is enough to apply the globs, so an excluded bad name is dropped like any other.
  if (!rules.filter.wanted(relPath, isDir)) return undefined;
  if (name === undefined) {
    return { code: 'name-not-utf8', reason: `name is not valid UTF-8 (invalid bytes shown as \\xNN): ${escapeNameBytes(rawName)}` };
  }
  if (!rules.hidden && name.startsWith('.')) {
    return { code: 'hidden', reason: `hidden ${isDir ? 'directory' : 'file'} (name starts with '.'); pass --hidden to include it` };
  }
  if (linkFailure) return linkFailure;
  if (kind === 'symlink') return { code: 'symlink', afterLink: 'not followed (--follow-symlinks is off)' };
  const special = specialSkip(kind);
  if (special) return special;
  return isDir ? 'dir' : 'file';
}

/** The last rule, for a regular file once its size is known. */
export function sizeProblem(rules: Rules, size: number): Problem | undefined {
  if (size <= rules.maxSize) return undefined;
  return { code: 'too-large', reason: `file is ${size} bytes, more than the maximum of ${rules.maxSize} bytes` };
}
