import type { RemoteNamer } from '../drives/drive.js';
import type { Code } from '../types.js';

export type Placement =
  | { ok: true; corpIndex: number; /** remote names from the corp folder down, the entry itself last */ remote: string[] }
  | { ok: false; code: Code; reason: string };

const MAX_CORP = 2_147_483_647;

/**
 * Where a walked path goes on the drive: `<corp index>/<path below the corp folder>`. The corp is
 * `--corp N` when given, otherwise the first-level directory's name, which must be an integer.
 * Every name is mapped through the target's naming rules; the first one that cannot be used makes
 * the whole path unplaceable, with the reason.
 */
export class CorpLayout {
  /** Mapped directory paths, so a deep tree maps each directory once. Cleared when it grows large. */
  private readonly dirs = new Map<string, Placement>();

  constructor(
    private readonly namer: RemoteNamer,
    private readonly corp: number | undefined,
  ) {}

  place(relPath: string, isFolder: boolean): Placement {
    const slash = relPath.lastIndexOf('/');
    const parentRel = slash < 0 ? '' : relPath.slice(0, slash);
    const base = slash < 0 ? relPath : relPath.slice(slash + 1);
    if (this.corp === undefined && parentRel === '') {
      if (!isFolder) return { ok: false, code: 'outside-corp-folder', reason: 'file is not inside a corp folder (the first-level directory must be the corp index, or pass --corp N)' };
      return this.corpFolder(base);
    }
    const parent = this.parentPlacement(parentRel);
    if (!parent.ok) return parent;
    const mapped = this.namer(base, isFolder);
    if (!mapped.ok) return { ok: false, code: mapped.code, reason: mapped.reason };
    return { ok: true, corpIndex: parent.corpIndex, remote: [...parent.remote, mapped.name] };
  }

  private parentPlacement(parentRel: string): Placement {
    if (parentRel === '') return { ok: true, corpIndex: this.corp!, remote: [String(this.corp)] };
    let p = this.dirs.get(parentRel);
    if (!p) {
      p = this.place(parentRel, true);
      if (this.dirs.size >= 10_000) this.dirs.clear();
      this.dirs.set(parentRel, p);
    }
    return p;
  }

  private corpFolder(name: string): Placement {
    if (!/^\d{1,10}$/.test(name) || Number(name) > MAX_CORP) {
      return { ok: false, code: 'no-corp-folder', reason: `first-level directory ${JSON.stringify(name)} is not a corp index (an integer); pass --corp N to import it` };
    }
    const corpIndex = Number(name);
    return { ok: true, corpIndex, remote: [String(corpIndex)] };
  }
}
