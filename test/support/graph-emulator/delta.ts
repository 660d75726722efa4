/**
 * The drive's change feed (`GET /drives/{d}/root/delta`), as Graph's driveItem delta reference
 * describes it (https://learn.microsoft.com/en-us/graph/api/driveitem-delta):
 *
 * - No token: a full enumeration of every item, the root first, parents before children.
 *   `token=latest`: no items, only a deltaLink. A token from a deltaLink: every item changed since
 *   (latest state only), with the folders that gained or lost children and the folders above every
 *   change (a request header `deltaExcludeParent` leaves these parents out, as the reference
 *   says), parents before children; then the deleted items.
 * - Pages end in `@odata.nextLink` until the last, which carries `@odata.deltaLink`. A feed is
 *   fixed when its first page is asked for; each page shows its items as they are when that page is
 *   served, so an item changed mid-feed shows its newest state, and shows up again next time.
 * - Tokens are opaque and stateless (this feed's tag, a generation, the change sequence), so they
 *   outlive a client process. `invalidateTokens()` moves the generation on: old tokens, and tokens
 *   from another emulator, answer 410 resyncRequired with a Location that starts afresh.
 */
import { randomBytes } from 'node:crypto';
import type { Drive, DriveNode } from './drive.js';
import { invalidRequest, resyncRequired } from './graph-error.js';
import type { DeltaPageJson } from './wire.js';

export type ResyncCode = 'resyncChangesApplyDifferences' | 'resyncChangesUploadDifferences';

export interface DeltaControls {
  /** Items per page when the request has no `$top`; default 200. */
  pageSize: number;
  /** Feeds started from now on list every entry twice, the second time after all others (the last one wins). */
  duplicates: boolean;
  /** Every token handed out so far answers 410 resyncRequired with `innerCode` (default resyncChangesApplyDifferences). */
  invalidateTokens(innerCode?: ResyncCode): void;
  readonly counts: DeltaCounts;
}

export interface DeltaCounts {
  /** Feeds started without a token. */
  fullEnumerations: number;
  /** Feeds started from a deltaLink's token. */
  incrementalEnumerations: number;
  /** `token=latest` answers. */
  latest: number;
  pages: number;
  /** 410 answers. */
  resyncs: number;
}

/** A feed fixed at its first page: item ids (live or deleted) and the change sequence it runs up to. */
interface Feed {
  entries: string[];
  upTo: number;
  pageSize: number;
}

/** Graph's largest `$top`. */
const MAX_PAGE_SIZE = 999;
/** Feeds kept for their nextLinks; an older feed's nextLink answers 410, as an expired one would. */
const FEEDS_KEPT = 32;

const zeroCounts = (): DeltaCounts => ({ fullEnumerations: 0, incrementalEnumerations: 0, latest: 0, pages: 0, resyncs: 0 });

export class DeltaFeed implements DeltaControls {
  pageSize: number;
  duplicates = false;
  readonly counts = zeroCounts();
  private readonly drive: Drive;
  private readonly tag = randomBytes(6).toString('hex');
  private generation = 0;
  private resyncCode: ResyncCode = 'resyncChangesApplyDifferences';
  private readonly feeds = new Map<number, Feed>();
  private nextFeedId = 0;

  constructor(drive: Drive, pageSize: number) {
    this.drive = drive;
    this.pageSize = pageSize;
  }

  invalidateTokens(innerCode: ResyncCode = 'resyncChangesApplyDifferences'): void {
    this.generation++;
    this.resyncCode = innerCode;
    this.feeds.clear();
  }

  /**
   * The page answering `token` (undefined for a fresh enumeration). `deltaUrl` is this drive's
   * delta URL without a query, for the links.
   */
  page(token: string | undefined, top: string | undefined, excludeParents: boolean, deltaUrl: string): DeltaPageJson {
    if (token === 'latest') {
      this.counts.latest++;
      return { value: [], '@odata.deltaLink': this.link(deltaUrl, [this.drive.lastChange]) };
    }
    if (token === undefined) {
      this.counts.fullEnumerations++;
      return this.startFeed(this.fullEntries(), this.pageSizeFrom(top), deltaUrl);
    }
    const parts = this.decode(token, deltaUrl);
    if (parts.length === 1) {
      this.counts.incrementalEnumerations++;
      return this.startFeed(this.changedEntries(parts[0], excludeParents), this.pageSizeFrom(top), deltaUrl);
    }
    const [, feedId, offset] = parts;
    const feed = this.feeds.get(feedId);
    if (feed === undefined) throw this.gone(deltaUrl);
    return this.servePage(feedId, feed, offset, deltaUrl);
  }

  private startFeed(entries: string[], pageSize: number, deltaUrl: string): DeltaPageJson {
    const feed: Feed = { entries: this.duplicates ? [...entries, ...entries] : entries, upTo: this.drive.lastChange, pageSize };
    const feedId = this.nextFeedId++;
    this.feeds.set(feedId, feed);
    if (this.feeds.size > FEEDS_KEPT) this.feeds.delete(this.feeds.keys().next().value as number);
    return this.servePage(feedId, feed, 0, deltaUrl);
  }

  private servePage(feedId: number, feed: Feed, offset: number, deltaUrl: string): DeltaPageJson {
    this.counts.pages++;
    const end = Math.min(offset + feed.pageSize, feed.entries.length);
    const page: DeltaPageJson = { value: [] };
    for (let i = offset; i < end; i++) {
      const id = feed.entries[i];
      const node = this.drive.get(id);
      if (node !== undefined) {
        page.value.push(this.drive.toDeltaJson(node));
        continue;
      }
      const tombstone = this.drive.tombstone(id);
      if (tombstone !== undefined) page.value.push(this.drive.toDeletedJson(tombstone));
    }
    if (end < feed.entries.length) page['@odata.nextLink'] = this.link(deltaUrl, [feed.upTo, feedId, end]);
    else page['@odata.deltaLink'] = this.link(deltaUrl, [feed.upTo]);
    return page;
  }

  private fullEntries(): string[] {
    const ids: string[] = [];
    for (const node of this.drive.preorder()) ids.push(node.id);
    return ids;
  }

  /** Items changed after `since`, their parents unless excluded, parents first; then the deleted. */
  private changedEntries(since: number, excludeParents: boolean): string[] {
    const changed = this.drive.changedSince(since, !excludeParents);
    const shown = new Set<DriveNode>(changed);
    if (!excludeParents) {
      for (const node of changed) {
        for (let n = node.parent; n !== null && !shown.has(n); n = n.parent) shown.add(n);
      }
    }
    const deleted = this.drive.deletedSince(since);
    const depth = new Map<DriveNode, number>();
    for (const node of shown) {
      let d = 0;
      for (let n = node.parent; n !== null; n = n.parent) d++;
      depth.set(node, d);
    }
    const live = [...shown].sort((a, b) => depth.get(a)! - depth.get(b)! || a.changeSeq - b.changeSeq);
    return [...live.map((n) => n.id), ...deleted.map((t) => t.id)];
  }

  private pageSizeFrom(top: string | undefined): number {
    if (top === undefined) return this.pageSize;
    const n = Number(top);
    if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) throw invalidRequest(`Invalid $top "${top}".`);
    return n;
  }

  private link(deltaUrl: string, numbers: number[]): string {
    const token = Buffer.from([this.tag, this.generation, ...numbers].join('.')).toString('base64url');
    return `${deltaUrl}?token=${token}`;
  }

  /** [upTo] for a deltaLink's token, [upTo, feedId, offset] for a nextLink's. */
  private decode(token: string, deltaUrl: string): number[] {
    const [tag, generation, ...rest] = Buffer.from(token, 'base64url').toString('utf8').split('.');
    const numbers = rest.map(Number);
    const wellFormed = generation !== undefined && (numbers.length === 1 || numbers.length === 3) && numbers.every((n) => Number.isSafeInteger(n) && n >= 0);
    if (!wellFormed) throw invalidRequest('The delta token is not valid.');
    // A token from an older generation or another emulator: the state it describes is gone.
    if (tag !== this.tag || Number(generation) !== this.generation || numbers[0] > this.drive.lastChange) throw this.gone(deltaUrl);
    return numbers;
  }

  private gone(deltaUrl: string) {
    this.counts.resyncs++;
    return resyncRequired(this.resyncCode, deltaUrl);
  }
}
