/**
 * An error answer in Graph's shape. Handlers throw these; the server turns them into
 * `{"error":{"code","message","innerError":{...}}}` with the status and headers given here.
 */
export class GraphError extends Error {
  readonly status: number;
  readonly code: string;
  readonly innerCode: string | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly nextExpectedRanges: string[] | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { innerCode?: string; headers?: Record<string, string>; nextExpectedRanges?: string[] } = {},
  ) {
    super(message);
    this.name = 'GraphError';
    this.status = status;
    this.code = code;
    this.innerCode = options.innerCode;
    this.headers = options.headers;
    this.nextExpectedRanges = options.nextExpectedRanges;
  }
}

export const invalidRequest = (message: string, innerCode?: string) => new GraphError(400, 'invalidRequest', message, { innerCode });

export const itemNotFound = (message = 'The resource could not be found.', innerCode?: string) =>
  new GraphError(404, 'itemNotFound', message, { innerCode });

export const nameAlreadyExists = (name: string) =>
  new GraphError(409, 'nameAlreadyExists', `The specified item name already exists: "${name}".`);

export const unauthenticated = (message: string) =>
  new GraphError(401, 'unauthenticated', message, {
    innerCode: 'InvalidAuthenticationToken',
    headers: { 'www-authenticate': 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"' },
  });

export const requestTooLarge = (message: string) => new GraphError(413, 'requestTooLarge', message);

export const accessDenied = (message: string) => new GraphError(403, 'accessDenied', message);

/** What an upload URL answers once its own token has died (onedrive-api-docs#1570). */
export const expiredToken = () =>
  new GraphError(401, 'unauthenticated', 'The token in the upload URL has expired.', { innerCode: 'expiredToken' });

/** OneDrive for Business answers a delta on anything but the root so (onedrive-api-docs#842, #214). */
export const notSupported = (message: string) => new GraphError(501, 'notSupported', message);

/**
 * A delta token the service can no longer serve: 410 Gone, with a Location header that starts a
 * fresh enumeration (Graph's driveItem delta reference).
 */
export const resyncRequired = (innerCode: string, freshEnumerationUrl: string) =>
  new GraphError(410, 'resyncRequired', 'The delta token is no longer valid; start a fresh enumeration.', {
    innerCode,
    headers: { location: freshEnumerationUrl },
  });

/** The code Graph's error list gives each status the fault injector can produce. */
export function codeForStatus(status: number): string {
  if (status === 429) return 'activityLimitReached';
  if (status === 503) return 'serviceNotAvailable';
  return 'generalException';
}
