/**
 * What each request costs in resource units (RU), SharePoint Online's currency for throttling an
 * app: 1 RU for a single GET, 2 RU for a list, create, update, delete or upload (Microsoft's
 * "Avoid getting throttled or blocked in SharePoint Online", https://learn.microsoft.com/en-us/sharepoint/dev/general-development/how-to-avoid-getting-throttled-or-blocked-in-sharepoint-online).
 * Requests to an upload URL are not priced there: fragment PUTs and cancels are options.
 */
import type { Route } from './routes.js';

export type RequestKind =
  | 'getDrive'
  | 'getItem'
  | 'listChildren'
  | 'delta'
  | 'createFolder'
  | 'simpleUpload'
  | 'createUploadSession'
  | 'updateItem'
  | 'deleteItem'
  | 'fragment'
  | 'uploadStatus'
  | 'cancelUpload'
  | 'commitUpload'
  | 'other';

/** The undocumented prices. */
export interface UploadUrlPrices {
  /** A fragment PUT, and the empty POST committing a deferCommit session. */
  fragmentUnits: number;
  /** A DELETE cancelling a session. */
  uploadUrlDeleteUnits: number;
}

const GRAPH_KINDS: Record<string, RequestKind> = {
  'GET self': 'getItem',
  'GET children': 'listChildren',
  'GET delta': 'delta',
  'POST children': 'createFolder',
  'PUT content': 'simpleUpload',
  'POST createUploadSession': 'createUploadSession',
  'PATCH self': 'updateItem',
  'DELETE self': 'deleteItem',
};

const UPLOAD_KINDS: Record<string, RequestKind> = {
  PUT: 'fragment',
  GET: 'uploadStatus',
  DELETE: 'cancelUpload',
  POST: 'commitUpload',
};

export function requestKind(method: string, route: Route | undefined): RequestKind {
  if (route === undefined) return 'other';
  switch (route.kind) {
    case 'upload':
      return UPLOAD_KINDS[method] ?? 'other';
    case 'drive':
      return method === 'GET' ? 'getDrive' : 'other';
    case 'item':
      return GRAPH_KINDS[`${method} ${route.action}`] ?? 'other';
    default:
      return 'other';
  }
}

export function unitsFor(kind: RequestKind, prices: UploadUrlPrices): number {
  switch (kind) {
    case 'getDrive':
    case 'getItem':
    case 'uploadStatus':
    case 'other':
      return 1;
    case 'fragment':
    case 'commitUpload':
      return prices.fragmentUnits;
    case 'cancelUpload':
      return prices.uploadUrlDeleteUnits;
    default:
      return 2;
  }
}
