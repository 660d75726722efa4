import type { Drive } from '../drives/drive.js';
import { fatal } from '../errors/vmb-error.js';
import type { LedgerConnection } from '../ledger/connection.js';
import { findFolders, insertFolder } from '../ledger/statements.js';
import type { DriveKey } from '../types.js';

export interface FolderTally {
  foldersCreated: number;
  /** Requests retried while creating folders (throttling, resets). */
  retries: number;
}

/**
 * Get-or-create the folders above a file, once per thread: on the drive first, then as a ledger row
 * committed in its own transaction. The parent is always committed before a child refers to it,
 * which is what lets file batches bump `child_count` on rows that are known to exist.
 */
export class FolderChain {
  /** remote path → item id; a promise so concurrent tasks of this thread share one lookup or creation. */
  private readonly ids = new Map<string, Promise<string>>();

  constructor(
    private readonly ledger: LedgerConnection,
    private readonly drive: () => Drive,
    private readonly key: DriveKey,
    private readonly runId: number,
  ) {}

  /**
   * Item id of the last folder in `folders` (remote names from the corp folder down). Folders this
   * thread has not seen yet are looked up in one query, and the lookup is shared: the tasks that
   * arrive together for a new folder wait for one answer instead of each asking the database.
   */
  ensure(corpIndex: number, folders: string[], sourceDirs: string[], tally: FolderTally): Promise<string> {
    const paths = folders.map((_, i) => folders.slice(0, i + 1).join('/'));
    const unknown = paths.filter((p) => !this.ids.has(p));
    if (unknown.length > 0) {
      const lookup = this.ledger.run((c) => findFolders(c, this.key, unknown));
      for (let i = 0; i < paths.length; i++) {
        const path = paths[i];
        if (this.ids.has(path)) continue;
        const parent = i === 0 ? Promise.resolve(null) : this.ids.get(paths[i - 1])!;
        const id = lookup.then(async (known) => known.get(path) ?? this.create(corpIndex, await parent, folders[i], path, sourceDirs[i] ?? null, tally));
        this.ids.set(path, id);
        // A failure is not kept: the next task that needs the folder tries again.
        id.catch(() => {
          if (this.ids.get(path) === id) this.ids.delete(path);
        });
      }
    }
    return this.ids.get(paths[paths.length - 1])!;
  }

  private async create(corpIndex: number, parentId: string | null, name: string, remotePath: string, sourcePath: string | null, tally: FolderTally): Promise<string> {
    const itemId = await this.drive().ensureFolder({ parentId, name, remotePath, stats: tally });
    const row = { ...this.key, corpIndex, itemId, parentItemId: parentId, name, remotePath, sourcePath, runId: this.runId };
    const inserted = await this.ledger.run((c) => insertFolder(c, row));
    if (inserted) {
      if (!inserted.parentBumped) throw fatal('ledger-inconsistent', `parent folder of ${remotePath} has no ledger row`);
      tally.foldersCreated++;
      return inserted.itemId;
    }
    const existing = await this.ledger.run((c) => findFolders(c, this.key, [remotePath]));
    const id = existing.get(remotePath);
    if (!id) throw fatal('ledger-inconsistent', `folder ${remotePath} was neither inserted nor found`);
    return id;
  }
}
