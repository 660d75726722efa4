/**
 * Every kind of difference `vmb-import check` can find between the ledger and the drive (or the
 * source tree), with what it means and what `check --fix` does about it: the one table behind the
 * check's report, its `--json`, the `vmb_import_drift_items` metric and the README's drift table.
 */

export interface DriftClassInfo {
  /** One line, for the README and the report. */
  readonly meaning: string;
  /** What `check --fix` does; `null`: nothing, it is reported only. */
  readonly fix: string | null;
}

export const DRIFT_CLASSES = {
  'missing-remote': { meaning: 'a row whose item is no longer on the drive (deleted, or moved out of the remote root)', fix: 'removes the row (and its folder counts), so the next import uploads the file again' },
  moved: { meaning: 'the item is on the drive under another parent folder than its row records', fix: 'updates the row: path, parent and the child counts of both folders' },
  renamed: { meaning: 'the item is on the drive under another name than its row records', fix: 'updates the row: path and name' },
  'changed-remote': { meaning: 'the item on the drive has another size or hash than the upload recorded (someone changed it there)', fix: null },
  'untracked-remote': { meaning: 'an item below the remote root that no row records (put there by someone else)', fix: null },
  'child-count': { meaning: "a folder row whose child_count differs from the folder's children on the drive", fix: null },
  'missing-local': { meaning: 'a row whose source file is no longer below the import directory (informational: the drive keeps it)', fix: null },
} as const satisfies Record<string, DriftClassInfo>;

export type DriftClass = keyof typeof DRIFT_CLASSES;

export const DRIFT_CLASS_NAMES = Object.keys(DRIFT_CLASSES) as DriftClass[];
