import { DRIFT_CLASS_NAMES, type DriftClass } from '../errors/drift-classes.js';
import type { Difference, LedgerItem } from '../types.js';
import type { ListedItem } from './below-root.js';

/**
 * The ledger against the drive, by item id: every row against the item of its id, then every item
 * without a row. `missingLocal` are the rows whose source file is gone (from the source tree, when
 * one was read). Pure: the same inputs give the same differences in the same order.
 */
export function compare(rows: readonly LedgerItem[], listed: ReadonlyMap<string, ListedItem>, missingLocal: readonly LedgerItem[] = []): Difference[] {
  const out: Difference[] = [];
  const recorded = new Set<string>();
  for (const row of [...rows].sort(byPath)) {
    recorded.add(row.itemId);
    const found = listed.get(row.itemId);
    const at = { itemId: row.itemId, path: row.remotePath };
    if (!found) {
      out.push({ class: 'missing-remote', ...at });
      continue;
    }
    const { item } = found;
    if (found.parentId !== row.parentItemId) out.push({ class: 'moved', ...at, ledger: parentPath(row.remotePath), drive: parentPath(found.path) });
    if (item.name !== row.name) out.push({ class: 'renamed', ...at, ledger: row.name, drive: item.name });
    if (!row.isFolder && item.size !== null && row.size !== null && item.size !== row.size) {
      out.push({ class: 'changed-remote', ...at, ledger: row.size, drive: item.size });
    } else if (!row.isFolder && item.hash !== null && row.hash !== null && item.hash !== row.hash) {
      out.push({ class: 'changed-remote', ...at, ledger: row.hash, drive: item.hash });
    }
    if (row.isFolder && item.childCount !== null && item.childCount !== row.childCount) out.push({ class: 'child-count', ...at, ledger: row.childCount, drive: item.childCount });
  }
  const untracked = [...listed.values()].filter((l) => !recorded.has(l.item.id)).sort((a, b) => compareText(a.path, b.path));
  for (const l of untracked) out.push({ class: 'untracked-remote', itemId: l.item.id, path: l.path });
  for (const row of [...missingLocal].sort(byPath)) out.push({ class: 'missing-local', itemId: row.itemId, path: row.remotePath, ledger: row.sourcePath });
  return out;
}

/** Every class, with how many differences of it. */
export function countByClass(differences: readonly Difference[]): Record<DriftClass, number> {
  const counts = Object.fromEntries(DRIFT_CLASS_NAMES.map((c) => [c, 0])) as Record<DriftClass, number>;
  for (const d of differences) counts[d.class]++;
  return counts;
}

/** Drift that makes `check` exit 1: anything but the informational `missing-local`. */
export function isDrift(counts: Record<DriftClass, number>): boolean {
  return DRIFT_CLASS_NAMES.some((c) => c !== 'missing-local' && counts[c] > 0);
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byPath = (a: LedgerItem, b: LedgerItem) => compareText(a.remotePath, b.remotePath);

/** `1042/2026` for `1042/2026/scan.pdf`; '' in the remote root. */
function parentPath(p: string): string {
  const slash = p.lastIndexOf('/');
  return slash < 0 ? '' : p.slice(0, slash);
}
