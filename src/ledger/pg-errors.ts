import { fatal, type VmbError } from '../errors/vmb-error.js';

/**
 * Which PostgreSQL / node-postgres failures are worth retrying, and how.
 * See docs/runtime-facts.md (node-postgres): a pg.Client is never reusable after a connection error.
 */

const CONNECTION_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** read_only_sql_transaction, insufficient_privilege. */
const READ_ONLY_SQLSTATE = '25006';
const INSUFFICIENT_PRIVILEGE_SQLSTATE = '42501';
/** Transaction-level failures that leave the client usable after ROLLBACK. */
const RETRY_IN_PLACE_SQLSTATES = new Set(['40001', '40P01', '57014', '55P03']);

interface PgLikeError {
  code?: string;
  message?: string;
}

/** The client that saw this error is dead: drop it and reconnect. */
export function isConnectionError(err: unknown): boolean {
  const e = err as PgLikeError;
  if (!e || typeof e !== 'object') return false;
  if (e.code && (e.code.startsWith('08') || CONNECTION_SQLSTATES.has(e.code) || NETWORK_CODES.has(e.code))) return true;
  const m = e.message ?? '';
  return (
    m.includes('Connection terminated') ||
    m.includes('Client has encountered a connection error') ||
    m.includes('Client was closed') ||
    m.includes('connection timeout') ||
    m.includes('timeout expired') ||
    m.includes('SSL') ||
    m.includes('socket hang up')
  );
}

/** A serialization failure, deadlock or statement timeout: roll back and run the transaction again. */
export function isRetryInPlace(err: unknown): boolean {
  const code = (err as PgLikeError)?.code;
  return typeof code === 'string' && RETRY_IN_PLACE_SQLSTATES.has(code);
}

export function describePgError(err: unknown): string {
  const e = err as PgLikeError;
  return e?.code ? `${e.message} (SQLSTATE ${e.code})` : String(e?.message ?? err);
}

/**
 * A refusal the server will repeat however often the write is tried: a read-only database (a hot
 * standby, `default_transaction_read_only`) or a user without the privilege. The run cannot go
 * on, and the line says what to fix; null for anything else.
 */
export function refusedWrite(err: unknown, display: string): VmbError | null {
  const e = err as PgLikeError;
  if (e?.code === READ_ONLY_SQLSTATE) {
    return fatal('database-read-only', `the ledger at ${display} is read-only (${e.message}); point --database-url at a writable server (not a standby), or use --dry-run to look without writing`);
  }
  if (e?.code === INSUFFICIENT_PRIVILEGE_SQLSTATE) {
    return fatal('database-permission', `the ledger user at ${display} lacks a privilege (${e.message}); grant it write access to the corporate schema, or run vmb-import migrate as its owner`);
  }
  return null;
}
