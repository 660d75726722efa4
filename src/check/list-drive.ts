import type pg from 'pg';
import { listLocalDrive } from '../drives/local/local-listing.js';
import type { OneDriveDrive } from '../drives/onedrive/onedrive-drive.js';
import type { DeltaItem } from '../drives/onedrive/wire.js';
import { VmbError } from '../errors/vmb-error.js';
import { clearRemoteItems, deleteRemoteItems, findDeltaLink, listRemoteItems, saveDeltaLink, upsertRemoteItems } from '../ledger/statements.js';
import type { DriveKey, ListingStats, RemoteItem } from '../types.js';
import { itemsBelow, type ListedItem } from './below-root.js';

/** Times a feed may answer 410 within one check before the listing gives up. */
const MAX_RESYNCS = 3;
/** Listed items written per statement. */
const WRITE_BATCH = 5000;

export interface DriveListing {
  /** Every item below the remote root, by id. */
  below: Map<string, ListedItem>;
  stats: ListingStats;
  /**
   * Writes the listing and its deltaLink, in the caller's transaction (so that the stored listing
   * and its link never disagree); absent when there is nothing to keep (a local walk).
   */
  save?: (c: pg.Client) => Promise<void>;
}

/** The local drive: its folder, walked. */
export async function listLocal(root: string): Promise<DriveListing> {
  const items = await listLocalDrive(root);
  return { below: itemsBelow(items, null), stats: { kind: 'walk', pages: 0, itemsReceived: items.length, resyncs: 0 } };
}

export interface StoredListing {
  items: RemoteItem[];
  deltaLink: string | null;
}

/** The listing the last check kept for this drive and remote root, and the deltaLink that continues it. */
export async function loadStoredListing(c: pg.Client, key: DriveKey): Promise<StoredListing> {
  const deltaLink = await findDeltaLink(c, key);
  // Without a link the stored items cannot be continued, and a full enumeration replaces them.
  return { deltaLink, items: deltaLink === null ? [] : await listRemoteItems(c, key) };
}

/**
 * OneDrive, through the delta feed of the drive's root (the only one Business offers): from the
 * stored deltaLink only the changes, applied to the stored listing, so an incremental check still
 * compares every item; without a link, or when the feed answers 410, a full enumeration. The
 * remote root is then found in the drive's items by its id and ancestors.
 */
export async function listOneDrive(drive: OneDriveDrive, key: DriveKey, stored: StoredListing): Promise<DriveListing> {
  const stats: ListingStats = { kind: stored.deltaLink === null ? 'full' : 'incremental', pages: 0, itemsReceived: 0, resyncs: 0 };
  let items = new Map(stored.items.map((i) => [i.id, i]));
  let changed = new Map<string, RemoteItem>();
  let deleted = new Set<string>();
  let link = stored.deltaLink;
  let deltaLink: string | undefined;
  while (deltaLink === undefined) {
    const answer = await drive.deltaPage(link);
    if ('resync' in answer) {
      if (++stats.resyncs > MAX_RESYNCS) {
        throw new VmbError('fatal', 'drive-listing-failed', `the delta feed of drive ${key.driveId} asked ${stats.resyncs} times to start again (HTTP 410 resyncRequired); try again later`);
      }
      // The token's state is gone: everything is listed again and replaces what was stored.
      stats.kind = 'full';
      items = new Map();
      changed = new Map();
      deleted = new Set();
      link = null;
      continue;
    }
    stats.pages++;
    for (const entry of answer.page.value) {
      stats.itemsReceived++;
      // Entries may repeat within a feed; the last one is the item's latest state.
      if (entry.deleted !== undefined) {
        items.delete(entry.id);
        changed.delete(entry.id);
        deleted.add(entry.id);
      } else {
        const item = remoteItem(entry);
        items.set(item.id, item);
        changed.set(item.id, item);
        deleted.delete(item.id);
      }
    }
    link = answer.page['@odata.nextLink'] ?? null;
    deltaLink = answer.page['@odata.deltaLink'];
    if (deltaLink === undefined && link === null) throw new VmbError('fatal', 'drive-listing-failed', `a delta page of drive ${key.driveId} had neither a nextLink nor a deltaLink`);
  }
  const rootId = await drive.findRemoteRoot();
  const full = stats.kind === 'full';
  const finalLink = deltaLink;
  return {
    below: rootId === null ? new Map() : itemsBelow(items.values(), rootId),
    stats,
    save: async (c) => {
      if (full) await clearRemoteItems(c, key);
      else await deleteRemoteItems(c, key, [...deleted]);
      const rows = [...changed.values()];
      for (let i = 0; i < rows.length; i += WRITE_BATCH) await upsertRemoteItems(c, key, rows.slice(i, i + WRITE_BATCH));
      await saveDeltaLink(c, key, finalLink);
    },
  };
}

function remoteItem(entry: DeltaItem): RemoteItem {
  const isFolder = entry.folder !== undefined || entry.root !== undefined;
  return {
    id: entry.id,
    parentId: entry.root !== undefined ? null : (entry.parentReference?.id ?? null),
    name: entry.name ?? '',
    isFolder,
    size: isFolder ? null : (entry.size ?? null),
    hash: entry.file?.hashes?.quickXorHash ?? null,
    childCount: isFolder ? (entry.folder?.childCount ?? null) : null,
  };
}
