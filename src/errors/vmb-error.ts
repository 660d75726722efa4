import { codeInfo, type Code, type CodeOf, type ErrorKind } from './codes.js';

export type { Code, ErrorKind };

/**
 * An error the importer knows: a kind and a stable code from the registry (src/errors/codes.ts).
 * The kind is written at the call site for the reader and checked against the registry by the
 * compiler. Errors cross the thread boundary as plain data (`ErrorData`), never as objects.
 */
export class VmbError extends Error {
  readonly kind: ErrorKind;
  readonly code: Code;

  constructor(kind: 'retryable', code: CodeOf<'retryable'>, message: string, options?: ErrorOptions);
  constructor(kind: 'skip', code: CodeOf<'skip'>, message: string, options?: ErrorOptions);
  constructor(kind: 'fatal', code: CodeOf<'fatal'>, message: string, options?: ErrorOptions);
  constructor(kind: ErrorKind, code: Code, message: string, options?: ErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VmbError';
    this.kind = kind;
    this.code = code;
  }
}

interface ErrorOptions {
  cause?: unknown;
}

export const retryable = (code: CodeOf<'retryable'>, message: string, options?: ErrorOptions) =>
  new VmbError('retryable', code, message, options);
export const skip = (code: CodeOf<'skip'>, message: string, options?: { cause?: unknown }) => new VmbError('skip', code, message, options);
export const fatal = (code: CodeOf<'fatal'>, message: string, options?: { cause?: unknown }) => new VmbError('fatal', code, message, options);

/** A code's registered kind, for decisions made from a code alone. */
export const kindOf = (code: Code): ErrorKind => codeInfo(code).kind;

/** An error for a code decided elsewhere (the Graph retry rules), of the kind the registry gives it. */
export const errorFor = (code: Code, message: string, options?: ErrorOptions): VmbError =>
  new (VmbError as new (kind: ErrorKind, code: Code, message: string, options?: ErrorOptions) => VmbError)(kindOf(code), code, message, options);

/** The plain-data form of an error, safe to post between threads and to store. */
export interface ErrorData {
  kind: ErrorKind;
  code: Code;
  message: string;
  /** Only for `internal-error`: where the unexpected exception came from, for the log. */
  stack?: string;
}

/** Anything that is not a `VmbError` is a bug: a fatal `internal-error` that keeps its stack for the log. */
export function toErrorData(err: unknown): ErrorData {
  if (err instanceof VmbError) return { kind: err.kind, code: err.code, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { kind: 'fatal', code: 'internal-error', message, ...(err instanceof Error && err.stack ? { stack: err.stack } : {}) };
}
