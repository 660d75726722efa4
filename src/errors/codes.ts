/**
 * Every error code the importer gives, with its kind, the stages it can happen in and what it
 * means: the one table behind `VmbError`, the summary's failures, `vmb_import_failures.error_code`
 * and the README's error table (test/docs/readme-tables.test.ts holds the README to it).
 *
 * Kinds:
 * - `skip`: this one file (or folder) cannot be imported; it is recorded with the reason and the
 *   run goes on.
 * - `retryable`: a transient fault, retried within its budget; when the budget runs out it becomes
 *   a failure of that file.
 * - `fatal`: the run cannot go on. Before the run: one line on stderr, exit 2. During the run: the
 *   run stops dispatching and ends `failed`.
 */

export type ErrorKind = 'retryable' | 'skip' | 'fatal';

/** Where a failure happened, as `vmb_import_failures.stage` records it; `start` is before any file. */
export type Stage = 'start' | 'walk' | 'read' | 'folder' | 'upload' | 'verify' | 'record' | 'after-upload' | 'check';

export interface CodeInfo {
  readonly kind: ErrorKind;
  readonly stages: readonly Stage[];
  /** One line, for the README and for whoever reads a failure. */
  readonly meaning: string;
}

const skip = (stages: Stage[], meaning: string) => ({ kind: 'skip' as const, stages, meaning });
const retryable = (stages: Stage[], meaning: string) => ({ kind: 'retryable' as const, stages, meaning });
const fatal = (stages: Stage[], meaning: string) => ({ kind: 'fatal' as const, stages, meaning });

const UPLOAD: Stage[] = ['folder', 'upload'];

export const CODES = {
  // The walk: what the source tree holds.
  fifo: skip(['walk'], 'a named pipe: never opened, since reading it could block forever'),
  socket: skip(['walk'], 'a unix domain socket: it has no content'),
  device: skip(['walk'], 'a block or character device'),
  'unsupported-type': skip(['walk'], 'a file of a type the importer does not know'),
  symlink: skip(['walk'], 'a symbolic link, not followed without --follow-symlinks'),
  'symlink-loop': skip(['walk'], 'a link that leads back to a directory containing it, or a chain of links that never resolves'),
  'symlink-duplicate': skip(['walk'], 'a link to a directory that was already walked'),
  'broken-symlink': skip(['walk'], 'a link that points to nothing'),
  hidden: skip(['walk'], 'a name starting with "." (imported with --hidden)'),
  'too-large': skip(['walk'], 'a file larger than --max-size'),
  'name-not-utf8': skip(['walk'], 'a name whose bytes are not valid UTF-8'),
  unreadable: skip(['walk', 'read'], 'a file or directory that cannot be read (permissions, I/O); an unreadable directory counts as one failed file'),
  vanished: skip(['walk', 'read'], 'gone, or replaced by something else, between the listing and its turn'),

  // Planning: where the file would go.
  'outside-corp-folder': skip(['walk'], 'a file directly in the import directory, outside any corp folder (or pass --corp N)'),
  'no-corp-folder': skip(['walk'], 'a first-level directory whose name is not a corp index (an integer)'),
  'type-conflict': skip(['walk'], 'the ledger holds a file where the source has a directory, or the other way round'),
  'remote-path-too-long': skip(['walk', ...UPLOAD], 'the path on the drive would be longer than OneDrive allows (400 characters)'),
  'name-empty': skip(['walk'], 'an empty name'),
  'name-invalid': skip(['walk'], 'a name the local drive cannot use as a file name'),
  'name-reserved': skip(['walk'], 'a name OneDrive reserves (CON, PRN, AUX, NUL, COM0-9, LPT0-9, .lock, desktop.ini)'),
  'name-reserved-prefix': skip(['walk'], 'a name starting with "~$", which OneDrive reserves for Office owner files'),
  'name-reserved-substring': skip(['walk'], 'a name containing "_vti_", which SharePoint reserves'),
  'name-invalid-char': skip(['walk'], 'a name with a character OneDrive forbids (" * : < > ? / \\ |); --name-policy encode maps them'),
  'name-leading-space': skip(['walk'], 'a name starting with a space (--name-policy encode maps it)'),
  'name-trailing-space': skip(['walk'], 'a name ending with a space (--name-policy encode maps it)'),
  'name-trailing-period': skip(['walk'], 'a name ending with a period (--name-policy encode maps it)'),
  'name-folder-leading-tilde': skip(['walk'], 'a folder name starting with "~", which SharePoint refuses (--name-policy encode maps it)'),
  'name-too-long': skip(['walk'], 'a name longer than 255 characters'),

  // Reading and uploading one file.
  'not-a-file': skip(['read'], 'no longer a regular file when opened for its upload (a link, a FIFO, a directory)'),
  'file-changed': skip(['read', 'upload', 'verify'], 'the file changed while it was uploaded; it is not recorded, the next run picks it up'),
  'remote-item-conflict': skip(['record'], 'the drive item is already recorded for another path (names that differ only in case)'),
  'remote-not-a-folder': skip(['folder'], 'a file on the drive is in the way of a folder'),
  'graph-invalid-request': skip(UPLOAD, 'Graph refused the request as invalid (HTTP 400)'),
  'graph-access-denied': skip(UPLOAD, 'Graph denied access to the item (HTTP 403)'),
  'graph-not-found': skip(UPLOAD, 'Graph did not find the item or its folder (HTTP 404)'),
  'graph-name-conflict': skip(UPLOAD, 'an item of that name already exists on the drive (HTTP 409)'),
  'graph-precondition-failed': skip(UPLOAD, 'the item changed on the drive meanwhile (HTTP 412)'),
  'graph-too-large': skip(UPLOAD, 'Graph refused the request as too large (HTTP 413)'),
  'graph-locked': skip(UPLOAD, 'the item is locked on the drive (HTTP 423)'),
  'graph-http-<status>': skip(UPLOAD, 'any other HTTP status Graph answered that is not worth another try'),

  // Transient: retried, then a failure of the file.
  throttled: retryable(UPLOAD, 'Graph throttled the request (429, 503, 509): every thread waits for the hold, then goes on at the learned pace; never a failure of its own (see Throttling)'),
  'network-error': retryable(UPLOAD, 'the connection to Graph failed or was reset'),
  'request-timeout': retryable(UPLOAD, 'nothing moved on a Graph request for --request-timeout'),
  'graph-server-error': retryable(UPLOAD, 'Graph answered 500, 502 or 504'),
  unauthenticated: retryable(UPLOAD, 'Graph refused the token (401); it is fetched again once'),
  'auth-network-error': retryable(UPLOAD, 'the sign-in service could not be reached for a token'),
  'hash-mismatch': retryable(['upload'], "the drive's quickXorHash of the upload differs from the bytes sent"),
  'size-mismatch': retryable(['upload'], "the drive's size of the upload differs from the bytes sent"),
  'upload-session-expired': retryable(['upload'], 'the upload session expired more often than --retries allows'),
  'local-enospc': retryable(['upload'], 'the local drive is full'),
  'local-eio': retryable(['read', 'upload'], 'an I/O error on the local disk'),
  'local-emfile': retryable(['read', 'upload'], 'the process has too many files open'),
  'local-enfile': retryable(['read', 'upload'], 'the system has too many files open'),
  'db-unavailable': retryable(['folder', 'record'], 'the ledger could not be written, after waiting up to 60 s for the database'),
  'db-closed': retryable(['folder', 'record'], 'the thread was shutting down before the ledger write was made'),
  aborted: retryable(['upload'], 'the upload was stopped by the run (--max-runtime, the grace period over, a second signal); never a failure: the file is left for the next run, which continues its upload session'),
  'worker-error': retryable(['upload'], 'the worker thread handling the file failed'),

  // After the row is committed: the file is imported, the action was not done.
  'after-upload-changed': skip(['after-upload'], 'the file changed after its upload, so it was neither moved nor deleted'),
  'after-upload-delete-failed': skip(['after-upload'], 'the file could not be deleted after its upload'),
  'after-upload-move-failed': skip(['after-upload'], 'the file could not be moved after its upload'),

  // The run cannot go on.
  'config-option': fatal(['start'], 'an option has a value it cannot take'),
  'config-target': fatal(['start'], '--target names no known drive'),
  'config-root-missing': fatal(['start'], 'the import directory does not exist'),
  'config-root-unreadable': fatal(['start'], 'the import directory cannot be read'),
  'config-root-not-dir': fatal(['start'], 'the import path is a file, not a directory'),
  'config-local-root': fatal(['start'], '--local-root is not a writable directory'),
  'config-drive-id': fatal(['start'], '--target onedrive without --drive-id'),
  'config-credentials': fatal(['start'], 'no usable Graph credentials in the environment'),
  'config-database-url': fatal(['start'], '--database-url is not a usable PostgreSQL URL'),
  'config-secret-on-command-line': fatal(['start'], 'a secret was given on the command line, where ps shows it'),
  'config-invalid': fatal(['start'], 'a drive was built from settings it cannot use'),
  'database-unreachable': fatal(['start'], 'PostgreSQL cannot be reached'),
  'database-auth': fatal(['start'], 'PostgreSQL refused the login'),
  'database-tls': fatal(['start'], 'TLS to PostgreSQL failed'),
  'database-missing': fatal(['start'], 'the database named in --database-url does not exist'),
  'database-read-only': fatal(['start', 'folder', 'record'], 'the ledger database refuses writes (a standby, or default_transaction_read_only)'),
  'database-permission': fatal(['start', 'folder', 'record'], 'the ledger user lacks a privilege it needs'),
  'schema-too-new': fatal(['start'], 'the ledger schema is newer than this vmb-import'),
  'embedded-postgres': fatal(['start'], 'the embedded PostgreSQL could not be started'),
  'run-locked': fatal(['start'], 'another run holds the lock for this import directory and drive (exit 75)'),
  'no-such-run': fatal(['start'], 'vmb-import failures --run names a run the ledger does not hold'),
  'graph-check': fatal(['start'], 'the drive could not be reached with --graph-url, --drive-id and the credentials'),
  'graph-not-json': fatal(['start'], '--graph-url answered something that is not Graph'),
  'remote-root-not-a-folder': fatal(['start', 'folder'], 'a file on the drive is in the way of --remote-root'),
  'credentials-missing': fatal(['start', 'upload'], 'a thread found no credentials to sign in with'),
  'auth-failed': fatal(UPLOAD, 'the identity platform refused the credentials'),
  'auth-unavailable': fatal(UPLOAD, 'no token is available from the configured credential'),
  'graph-unauthenticated': fatal(UPLOAD, 'Graph refused a freshly fetched token (401)'),
  'graph-quota-exceeded': fatal(UPLOAD, 'the drive is full (HTTP 507)'),
  'tls-error': fatal(UPLOAD, 'the TLS certificate of Graph cannot be trusted'),
  'ledger-inconsistent': fatal(['folder', 'record'], "a ledger write touched other rows than expected; it was rolled back"),
  'graph-blocked': fatal(UPLOAD, 'Graph answered only 503 for --blocked-after: the tenant may have blocked the app; the run stops, failed, and the files not done are left for the next run'),
  'target-closed': fatal(UPLOAD, 'a request was made on a drive after its thread closed it'),
  'drive-listing-failed': fatal(['check'], 'vmb-import check could not list the drive: its requests kept failing after --retries, or its change feed kept asking to start again (exit 3); nothing was compared or changed'),
  'internal-error': fatal(['read', 'folder', 'upload', 'record'], 'a bug: an unexpected exception; its stack is in the log'),
} as const satisfies Record<string, CodeInfo>;

type Registered = keyof typeof CODES;

/** Every code the importer gives. `graph-http-<status>` stands for one code per HTTP status. */
export type Code = Exclude<Registered, 'graph-http-<status>'> | `graph-http-${number}`;

/** The codes of one kind, so that `new VmbError(kind, code, …)` cannot give a code another kind. */
export type CodeOf<K extends ErrorKind> =
  | { [C in Registered]: (typeof CODES)[C]['kind'] extends K ? Exclude<C, 'graph-http-<status>'> : never }[Registered]
  | (K extends 'skip' ? `graph-http-${number}` : never);

/** The registry entry of a code. */
export function codeInfo(code: Code): CodeInfo {
  return /^graph-http-\d+$/.test(code) ? CODES['graph-http-<status>'] : CODES[code as Exclude<Code, `graph-http-${number}`>];
}
