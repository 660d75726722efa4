import { fatal, type VmbError } from '../errors/vmb-error.js';

/** One line saying what to fix, for a database that cannot be reached or entered at start-up. */
export function connectFailure(err: unknown, display: string): VmbError {
  const e = err as { code?: string; message?: string };
  const code = e?.code ?? '';
  const message = e?.message ?? String(err);
  const where = `PostgreSQL at ${display}`;
  if (code === 'ECONNREFUSED') return fatal('database-unreachable', `cannot reach ${where}: connection refused; is the server running, and are host and port in --database-url right?`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return fatal('database-unreachable', `cannot reach ${where}: host not found; check the host in --database-url`);
  if (code === 'ETIMEDOUT' || /timeout/i.test(message)) return fatal('database-unreachable', `cannot reach ${where}: connection timed out; check host, port and firewall`);
  if (code === '28P01' || code === '28000') return fatal('database-auth', `${where} refused the login (${message}); check user and password in --database-url`);
  if (code === '3D000') return fatal('database-missing', `${where}: ${message}; create it or fix the database name in --database-url`);
  if (/self[- ]signed|certificate|SSL|TLS/i.test(message) || code.startsWith('ERR_TLS') || code.includes('CERT')) {
    return fatal('database-tls', `TLS to ${where} failed (${message}); check sslmode and sslrootcert (or PGSSLROOTCERT)`);
  }
  return fatal('database-unreachable', `cannot connect to ${where}: ${message}${code ? ` (${code})` : ''}`);
}
