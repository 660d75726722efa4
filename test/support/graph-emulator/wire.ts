/**
 * JSON shapes on the wire, as Microsoft Graph v1.0 documents them (driveItem, itemReference,
 * uploadSession, the error envelope). Only the properties an uploader reads are modelled.
 */

export type ConflictBehavior = 'fail' | 'replace' | 'rename';

export const CONFLICT_BEHAVIOR_KEY = '@microsoft.graph.conflictBehavior';

export interface DriveJson {
  id: string;
  driveType: 'business';
  name: string;
}

export interface ItemReferenceJson {
  driveId: string;
  driveType: 'business';
  id?: string;
  /** Percent-encoded API path of the parent, e.g. `/drives/{d}/root:/a%20b`; absent on the root. */
  path?: string;
}

export interface DriveItemJson {
  id: string;
  name: string;
  size: number;
  eTag: string;
  cTag: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  parentReference: ItemReferenceJson;
  root?: Record<string, never>;
  folder?: { childCount: number };
  file?: { mimeType: string; hashes: { quickXorHash: string } };
}

export interface DriveItemPageJson {
  value: DriveItemJson[];
  '@odata.nextLink'?: string;
}

/**
 * A live item in a delta feed. Business leaves out `cTag`, and `parentReference` never carries a
 * path there (renaming a folder does not list its descendants), so clients must track items by id.
 */
export interface DeltaItemJson {
  id: string;
  name: string;
  size: number;
  eTag: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  parentReference: { driveId: string; id?: string };
  root?: Record<string, never>;
  folder?: { childCount: number };
  file?: { mimeType: string; hashes: { quickXorHash: string } };
}

/** A deleted item in a delta feed: on Business without `name` (and without `cTag`). */
export interface DeltaDeletedJson {
  id: string;
  parentReference: { driveId: string; id: string };
  deleted: Record<string, never>;
}

export interface DeltaPageJson {
  value: Array<DeltaItemJson | DeltaDeletedJson>;
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

export interface UploadSessionJson {
  uploadUrl?: string;
  expirationDateTime: string;
  nextExpectedRanges: string[];
}

export interface GraphErrorJson {
  error: {
    code: string;
    message: string;
    innerError: {
      code?: string;
      date: string;
      'request-id': string;
      'client-request-id': string;
    };
  };
  /** Only on 416 from an upload URL: where the session stands, so a client can skip ahead. */
  nextExpectedRanges?: string[];
}

/** Request bodies arrive untrusted, so every property is checked before use. */
export interface CreateFolderBody {
  name?: unknown;
  folder?: unknown;
  file?: unknown;
  [CONFLICT_BEHAVIOR_KEY]?: unknown;
}

/** PATCH of an item: rename (`name`) and/or move (`parentReference.id`). */
export interface UpdateItemBody {
  name?: unknown;
  parentReference?: unknown;
  [CONFLICT_BEHAVIOR_KEY]?: unknown;
}

export interface CreateUploadSessionBody {
  item?: {
    name?: unknown;
    fileSize?: unknown;
    [CONFLICT_BEHAVIOR_KEY]?: unknown;
  };
  deferCommit?: unknown;
}
