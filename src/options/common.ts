import envPaths from 'env-paths';
import { option } from './option.js';
import { choice, flag, pathname, text } from './readers.js';

/** Where state lives by default: root runs keep it in /var/lib (the postgres user must reach it). */
export function defaultDataDir(): string {
  if (process.getuid?.() === 0) return '/var/lib/vmb-import';
  return envPaths('vmb-import', { suffix: '' }).data;
}

/** How every command reaches the ledger. */
export const LEDGER_OPTIONS = [
  option({
    key: 'databaseUrl',
    flag: 'database-url',
    reader: text('URL'),
    default: (_given, env) => env.DATABASE_URL,
    defaultText: '`DATABASE_URL`, else `PG*` variables, else embedded',
    help: 'PostgreSQL URL of the ledger; `sslmode` and `sslrootcert` mean what they mean to psql (also `PGSSLMODE`, `PGSSLROOTCERT`)',
    group: 'Ledger',
  }),
  option({
    key: 'dataDir',
    flag: 'data-dir',
    reader: pathname('DIR'),
    default: () => defaultDataDir(),
    defaultText: '`~/.local/share/vmb-import` (`/var/lib/vmb-import` as root)',
    help: 'home of the embedded PostgreSQL and of the default local drive',
    group: 'Ledger',
  }),
] as const;

/** How every command reports. */
export const OUTPUT_OPTIONS = [
  option({ key: 'json', flag: 'json', reader: flag(), default: false, help: 'print one JSON document on stdout and nothing else there', group: 'Output' }),
  option({
    key: 'progress',
    flag: 'progress',
    reader: flag(),
    default: true,
    defaultText: 'on',
    help: 'progress on stderr: a bar on a terminal, a plain line every 5 s otherwise (`--no-progress`: none)',
    group: 'Output',
  }),
  option({
    key: 'logLevel',
    flag: 'log-level',
    reader: choice(['fatal', 'error', 'warn', 'info', 'debug', 'trace']),
    default: 'info',
    help: 'structured logs (pino): JSON lines on stderr or in --log-file, readable on a terminal',
    group: 'Output',
  }),
  option({ key: 'logFile', flag: 'log-file', reader: text('FILE'), help: 'write the JSON log lines to this file instead of stderr', group: 'Output' }),
  option({ key: 'quiet', flag: 'quiet', reader: flag(), default: false, help: 'log only errors (the summary is still printed)', group: 'Output' }),
] as const;

export const COMMON_OPTIONS = [...LEDGER_OPTIONS, ...OUTPUT_OPTIONS] as const;

/** The commands that run against the drive (import, check) record their runs for monitoring. */
export const METRICS_FILE_OPTION = option({
  key: 'metricsFile',
  flag: 'metrics-file',
  reader: pathname('FILE'),
  help: "at the end of every run, failed ones included, replace FILE atomically with the run's metrics in Prometheus text format (for node_exporter's textfile collector: a `.prom` file in its directory)",
  group: 'Output',
});

