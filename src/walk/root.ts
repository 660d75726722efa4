import { stat } from 'node:fs/promises';
import { fatal } from '../errors/vmb-error.js';

/** The import directory must be a readable directory: anything else is a configuration error, before any file is touched. */
export async function checkRoot(root: string): Promise<void> {
  try {
    if ((await stat(root)).isDirectory()) return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw fatal('config-root-missing', `import directory ${root} does not exist`);
    throw fatal('config-root-unreadable', `import directory ${root} cannot be read (${code})`);
  }
  throw fatal('config-root-not-dir', `import path ${root} is a file, not a directory`);
}
