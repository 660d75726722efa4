import { open, opendir, lstat } from 'node:fs/promises';
import path from 'node:path';
import { hashFile } from '../../hash/hash-file.js';
import { Slots } from '../../limits/slots.js';
import type { RemoteItem } from '../../types.js';
import { isPartialCopy, localDriveKey, localItemId } from './local-drive.js';

/** Files hashed at once while listing: enough to keep the disk busy, few enough descriptors. */
const HASHING_AT_ONCE = 8;

/** One item of the local drive, with its path below the drive's folder. */
export interface LocalListedItem extends RemoteItem {
  path: string;
}

/**
 * Every item below the local drive's folder, parents before children, as a drive listing gives
 * them: ids as the local drive derives them from the path (so an item moved or renamed there is
 * another item), parents null in the folder itself, each file's quickXorHash read from its bytes,
 * each folder's count of entries. Partial copies are the drive's own and not listed; a link is a
 * file of its own size that is not followed.
 */
export async function listLocalDrive(root: string): Promise<LocalListedItem[]> {
  const { driveId } = localDriveKey(root);
  const items: LocalListedItem[] = [];
  const pending: Promise<void>[] = [];
  const hashing = new Slots(HASHING_AT_ONCE);
  const hash = (item: LocalListedItem, abs: string) =>
    hashing.use(async () => {
      const handle = await open(abs, 'r');
      try {
        item.hash = await hashFile({ read: (buffer, offset, length, position) => handle.read(buffer, offset, length, position).then((r) => r.bytesRead) });
      } finally {
        await handle.close();
      }
    });
  const visit = async (dir: string, rel: string, parentId: string | null): Promise<number> => {
    let count = 0;
    for await (const entry of await opendir(dir)) {
      if (isPartialCopy(entry.name)) continue;
      count++;
      const itemPath = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const abs = path.join(dir, entry.name);
      const item: LocalListedItem = { id: localItemId(driveId, itemPath), parentId, name: entry.name, isFolder: entry.isDirectory(), size: null, hash: null, childCount: null, path: itemPath };
      items.push(item);
      if (item.isFolder) {
        item.childCount = await visit(abs, itemPath, item.id);
      } else {
        item.size = (await lstat(abs)).size;
        if (entry.isFile()) pending.push(hash(item, abs));
      }
    }
    return count;
  };
  await visit(root, '', null);
  await Promise.all(pending);
  return items;
}
