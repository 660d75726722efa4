/**
 * The few kinds of error the importer knows, each with a stable `code`.
 *
 * - `retryable`: a transient fault (connection reset, throttling, 5xx). The operation is retried
 *   within its budget; when the budget runs out it becomes a failure of that file.
 * - `skip`: this one file cannot be imported (FIFO, unreadable, bad name, vanished). The file is
 *   recorded in vmb_import_failures and the run goes on.
 * - `fatal`: the run cannot go on (bad configuration, database unreachable at start). One line,
 *   exit code 2.
 *
 * Errors cross the thread boundary as plain data (`{kind, code, message}`), never as objects.
 */
export type ErrorKind = 'retryable' | 'skip' | 'fatal';

export class VmbError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  /** Seconds the caller should wait before retrying, when the remote said so (Retry-After). */
  readonly retryAfterSeconds?: number;

  constructor(kind: ErrorKind, code: string, message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VmbError';
    this.kind = kind;
    this.code = code;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

export const retryable = (code: string, message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) =>
  new VmbError('retryable', code, message, options);
export const skip = (code: string, message: string, options?: { cause?: unknown }) => new VmbError('skip', code, message, options);
export const fatal = (code: string, message: string, options?: { cause?: unknown }) => new VmbError('fatal', code, message, options);

/** The plain-data form of an error, safe to post between threads and to store. */
export interface ErrorData {
  kind: ErrorKind;
  code: string;
  message: string;
}

export function toErrorData(err: unknown, fallbackCode = 'internal-error'): ErrorData {
  if (err instanceof VmbError) return { kind: err.kind, code: err.code, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { kind: 'retryable', code: fallbackCode, message };
}

/**
 * Process exit codes. The README's table is generated from the same words; keep them in step.
 */
export const ExitCode = {
  ok: 0,
  someFilesFailed: 1,
  config: 2,
  locked: 75,
  sigint: 130,
  sigterm: 143,
} as const;
