import { describeKind, type LinkProblem, type Problem } from './kinds.js';

// How the walk reports a failing fs call: a stable code (as in the README's error table) and a
// reason without the path, which the entry already carries.

/** The `code` of an fs error ('ENOENT'), or undefined for anything else. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** lstat of an entry the listing said was `expected` failed. */
export function statFailure(err: unknown, expected: 'file' | 'dir'): Problem {
  if (errorCode(err) === 'ENOENT') return { code: 'vanished', reason: `${describeKind(expected)} disappeared while being walked (ENOENT)` };
  return { code: 'unreadable', reason: `cannot read the ${describeKind(expected)}'s metadata: ${errorText(err)}` };
}

/** Opening a listed directory failed. */
export function dirOpenFailure(err: unknown): Problem {
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

/** Reading an open directory's listing failed part way through. */
export function listingFailure(err: unknown): Problem {
  return { code: 'unreadable', reason: `reading the directory failed part way: ${errorText(err)}` };
}

/** Following a symbolic link (stat through it) failed. */
export function linkFailure(err: unknown): LinkProblem {
  switch (errorCode(err)) {
    case 'ENOENT':
    case 'ENOTDIR':
      return { code: 'broken-symlink', afterLink: `points to nothing (${errorCode(err)})` };
    case 'ELOOP':
      return { code: 'symlink-loop', afterLink: 'never resolves: the chain of links loops (ELOOP)' };
    default:
      return { code: 'unreadable', afterLink: `cannot be followed: ${errorText(err)}` };
  }
}

/** "EIO: i/o error" style text without the path. */
function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = errorCode(err);
  const message = err.message.replace(/, \w+ '.*'$/s, '');
  return code !== undefined && !message.startsWith(code) ? `${code}: ${message}` : message;
}
