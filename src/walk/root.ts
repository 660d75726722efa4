import { stat } from 'node:fs/promises';
import { fatal } from '../errors/vmb-error.js';
import { errorCode } from './errno.js';

/** The import root must be a directory that exists: otherwise the run is misconfigured and stops before it starts. */
export async function checkRoot(root: string): Promise<void> {
  try {
    if ((await stat(root)).isDirectory()) return;
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT') throw fatal('config-root-missing', `import directory ${root} does not exist`);
    throw fatal('config-root-unreadable', `import directory ${root} cannot be read (${code})`);
  }
  throw fatal('config-root-not-dir', `import path ${root} is a file, not a directory`);
}
