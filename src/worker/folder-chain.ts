import type { ThreadClient } from '../db/thread-client.js';
import { findFolders, insertFolder, type DriveKey } from '../db/statements.js';
import { fatal } from '../errors.js';
import type { Target } from '../targets/target.js';

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
  /** remote path → item id; a promise so concurrent tasks of this thread share one creation. */
  private readonly ids = new Map<string, Promise<string>>();

  constructor(
    private readonly db: ThreadClient,
    private readonly target: () => Target,
    private readonly key: DriveKey,
    private readonly runId: number,
  ) {}

  /** Item id of the last folder in `folders` (remote names from the corp folder down). */
  async ensure(corpIndex: number, folders: string[], sourceDirs: string[], tally: FolderTally): Promise<string> {
    const paths = folders.map((_, i) => folders.slice(0, i + 1).join('/'));
    const unknown = paths.filter((p) => !this.ids.has(p));
    if (unknown.length > 0) {
      const known = await this.db.run((c) => findFolders(c, this.key, unknown));
      for (const [p, id] of known) if (!this.ids.has(p)) this.ids.set(p, Promise.resolve(id));
    }
    let parentId: string | null = null;
    for (let i = 0; i < paths.length; i++) {
      let id = this.ids.get(paths[i]);
      if (!id) {
        id = this.create(corpIndex, parentId, folders[i], paths[i], sourceDirs[i] ?? null, tally);
        this.ids.set(paths[i], id);
        const path = paths[i];
        id.catch(() => this.ids.delete(path));
      }
      parentId = await id;
    }
    return parentId!;
  }

  private async create(corpIndex: number, parentId: string | null, name: string, remotePath: string, sourcePath: string | null, tally: FolderTally): Promise<string> {
    const itemId = await this.target().ensureFolder({ parentId, name, remotePath, stats: tally });
    const row = { ...this.key, corpIndex, itemId, parentItemId: parentId, name, remotePath, sourcePath, runId: this.runId };
    const inserted = await this.db.run((c) => insertFolder(c, row));
    if (inserted) {
      if (!inserted.parentBumped) throw fatal('ledger-inconsistent', `parent folder of ${remotePath} has no ledger row`);
      tally.foldersCreated++;
      return inserted.itemId;
    }
    const existing = await this.db.run((c) => findFolders(c, this.key, [remotePath]));
    const id = existing.get(remotePath);
    if (!id) throw fatal('ledger-inconsistent', `folder ${remotePath} was neither inserted nor found`);
    return id;
  }
}
