import type { Dirent, Stats } from 'node:fs';
import type { Code } from '../types.js';

export type NodeKind = 'dir' | 'file' | 'symlink' | 'fifo' | 'socket' | 'block-device' | 'char-device' | 'other';

/** Dirents and Stats answer the same questions; Node has already lstat-ed entries the file system left untyped. */
export function kindOf(node: Dirent<string | Buffer> | Stats): NodeKind {
  if (node.isFile()) return 'file';
  if (node.isDirectory()) return 'dir';
  if (node.isSymbolicLink()) return 'symlink';
  if (node.isFIFO()) return 'fifo';
  if (node.isSocket()) return 'socket';
  if (node.isBlockDevice()) return 'block-device';
  if (node.isCharacterDevice()) return 'char-device';
  return 'other';
}

const words: Record<NodeKind, string> = {
  dir: 'directory',
  file: 'regular file',
  symlink: 'symbolic link',
  fifo: 'named pipe (FIFO)',
  socket: 'unix domain socket',
  'block-device': 'block device',
  'char-device': 'character device',
  other: 'file of an unknown type',
};

/** Why an entry is skipped: a stable `code` and a human `reason`. */
export interface Problem {
  code: Code;
  reason: string;
}

/** A symbolic link's problem: its reason goes on from what the link points to ("symbolic link to 'x' …"), which takes a readlink to tell. */
export interface LinkProblem {
  code: Code;
  afterLink: string;
}

export const describeKind = (kind: NodeKind) => words[kind];

/** Special files are reported, never opened: opening a FIFO blocks until a writer appears, and a device may never end. */
export function specialSkip(kind: NodeKind): Problem | undefined {
  switch (kind) {
    case 'fifo':
      return { code: 'fifo', reason: 'named pipe (FIFO): not opened, since reading it could block forever' };
    case 'socket':
      return { code: 'socket', reason: 'unix domain socket: it has no content to import' };
    case 'block-device':
    case 'char-device':
      return { code: 'device', reason: `${words[kind]}: device files are not imported` };
    case 'other':
      return { code: 'unsupported-type', reason: 'file of a type this importer does not know: not opened' };
    default:
      return undefined;
  }
}
