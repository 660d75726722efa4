/**
 * Microsoft Graph wire shapes, only the fields vmb-import reads or sends.
 * Reference: learn.microsoft.com/graph/api/resources/driveitem, .../uploadsession, and
 * learn.microsoft.com/onedrive/developer/rest-api/concepts/errors.
 */

export interface DriveItem {
  id: string;
  size?: number;
  folder?: { childCount?: number };
  file?: { hashes?: { quickXorHash?: string } };
}

export interface UploadSession {
  uploadUrl: string;
  expirationDateTime?: string;
}

/** What `GET {uploadUrl}` and a 202 chunk reply carry: ranges look like `"26-"` or `"0-99"`. */
export interface UploadSessionStatus {
  nextExpectedRanges: string[];
  /** Each fragment extends it (docs/graph-facts.md §9). */
  expirationDateTime?: string;
}

export type ConflictBehavior = 'fail' | 'replace' | 'rename';

export interface CreateFolderBody {
  name: string;
  folder: Record<string, never>;
  '@microsoft.graph.conflictBehavior': ConflictBehavior;
}

export interface CreateUploadSessionBody {
  item: { '@microsoft.graph.conflictBehavior': ConflictBehavior };
}

/**
 * Graph nests detail codes (`pathIsTooLong`, `uploadSessionNotFound`, …) in `innererror`; Graph
 * v1.0 spells it `innerError`, the OneDrive API docs `innererror`, so both are read.
 */
export interface GraphInnerError {
  code?: string;
  innererror?: GraphInnerError;
  innerError?: GraphInnerError;
}

export interface GraphErrorBody {
  error: GraphInnerError & { code: string; message?: string };
}

/** An item of a delta page (driveItem delta); a deleted one has only its id, the facet and its parent. */
export interface DeltaItem {
  id: string;
  name?: string;
  size?: number;
  parentReference?: { id?: string };
  folder?: { childCount?: number };
  file?: { hashes?: { quickXorHash?: string } };
  root?: Record<string, never>;
  deleted?: Record<string, unknown>;
}

export interface DeltaPage {
  value: DeltaItem[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}
