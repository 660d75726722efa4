import type { RemoteItem } from '../types.js';

/** An item below the remote root, where the drive has it: its parent as a row records one (null in the remote root). */
export interface ListedItem {
  item: RemoteItem;
  parentId: string | null;
  /** Below the remote root, `/`-separated, as `vmb_items.remote_path`. */
  path: string;
}

/**
 * The items below the folder `rootId` (null: the items without a parent, as a local listing gives
 * them), by id, each with its path. Found from the root down by parent ids: the delta feed gives
 * no paths, and an item whose ancestors do not lead to the root (moved out, or left over from a
 * deleted folder) is not below it.
 */
export function itemsBelow(items: Iterable<RemoteItem>, rootId: string | null): Map<string, ListedItem> {
  const children = new Map<string | null, RemoteItem[]>();
  for (const item of items) {
    if (item.id === rootId) continue;
    const list = children.get(item.parentId);
    if (list) list.push(item);
    else children.set(item.parentId, [item]);
  }
  const below = new Map<string, ListedItem>();
  const queue: ListedItem[] = [];
  const enqueue = (parentId: string | null, parentPath: string) => {
    for (const item of children.get(parentId) ?? []) {
      const listed = { item, parentId: parentId === rootId ? null : parentId, path: parentPath === '' ? item.name : `${parentPath}/${item.name}` };
      below.set(item.id, listed);
      if (item.isFolder) queue.push(listed);
    }
  };
  enqueue(rootId, '');
  for (let i = 0; i < queue.length; i++) enqueue(queue[i].item.id, queue[i].path);
  return below;
}
