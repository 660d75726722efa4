import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { LedgerItem } from '../types.js';

/** lstat calls in flight at once. */
const AT_ONCE = 32;

/**
 * The file rows whose source file is no longer in the source tree `root`: looked up by the path
 * the row records, which is what the walk of an import would find there.
 */
export async function rowsMissingLocally(root: string, rows: readonly LedgerItem[]): Promise<LedgerItem[]> {
  const files = rows.filter((r) => !r.isFolder && r.sourcePath !== null);
  const missing: LedgerItem[] = [];
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const row = files[next++];
      try {
        await lstat(path.join(root, ...row.sourcePath!.split('/')));
      } catch (err) {
        // Only "not there" is missing; a file that cannot be looked at (permissions) may well be there.
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') missing.push(row);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(AT_ONCE, files.length) }, worker));
  return missing;
}
