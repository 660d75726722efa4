import type pg from 'pg';
import { moveItems, recountChildren, removeItems, type ItemPlace } from '../ledger/statements.js';
import type { DriveKey, FixReport, LedgerItem } from '../types.js';
import type { ListedItem } from './below-root.js';

/** What `check --fix` will change in the ledger; the drive is never touched. */
export interface FixPlan {
  /** Rows of items no longer below the remote root. */
  remove: LedgerItem[];
  /** Rows whose item the drive has under another parent, name or path (a moved folder's descendants included). */
  move: ItemPlace[];
  /** Folder rows that lose or gain a child row: counted again after the changes. */
  recount: string[];
  left: FixReport['left'];
}

/**
 * From the rows and the drive's items below the remote root: every row whose item is gone is
 * removed, so the next import uploads the file again; every row whose item is elsewhere follows
 * it. A file the drive has directly in the remote root cannot be followed: the ledger keeps files
 * in corp folders only.
 */
export function planFix(rows: readonly LedgerItem[], below: ReadonlyMap<string, ListedItem>): FixPlan {
  const plan: FixPlan = { remove: [], move: [], recount: [], left: [] };
  const recount = new Set<string>();
  for (const row of rows) {
    const found = below.get(row.itemId);
    if (!found) {
      plan.remove.push(row);
      if (row.parentItemId !== null) recount.add(row.parentItemId);
      continue;
    }
    if (found.parentId === row.parentItemId && found.item.name === row.name && found.path === row.remotePath) continue;
    if (found.parentId === null && !row.isFolder) {
      plan.left.push({ itemId: row.itemId, path: row.remotePath, reason: `the drive has the file directly in the remote root (${found.path}), outside any corp folder` });
      continue;
    }
    plan.move.push({ itemId: row.itemId, parentItemId: found.parentId, name: found.item.name, remotePath: found.path });
    if (found.parentId !== row.parentItemId) {
      if (row.parentItemId !== null) recount.add(row.parentItemId);
      if (found.parentId !== null) recount.add(found.parentId);
    }
  }
  const removed = new Set(plan.remove.map((r) => r.itemId));
  plan.recount = [...recount].filter((id) => !removed.has(id)).sort();
  plan.remove.sort((a, b) => (a.remotePath < b.remotePath ? -1 : 1));
  plan.move.sort((a, b) => (a.remotePath < b.remotePath ? -1 : 1));
  return plan;
}

/** The plan's counts, as the summary reports them (before applying: what --dry-run would do). */
export function planReport(plan: FixPlan): FixReport {
  return { rowsRemoved: plan.remove.length, rowsMoved: plan.move.length, foldersRecounted: plan.recount.length, left: plan.left };
}

/** Applies the plan in the caller's transaction: removals first (they free paths), then moves, then the counts. */
export async function applyFix(c: pg.Client, key: DriveKey, plan: FixPlan): Promise<FixReport> {
  const rowsRemoved = await removeItems(c, key, plan.remove.map((r) => r.itemId));
  const rowsMoved = await moveItems(c, key, plan.move);
  const foldersRecounted = await recountChildren(c, key, plan.recount);
  return { rowsRemoved, rowsMoved, foldersRecounted, left: plan.left };
}
