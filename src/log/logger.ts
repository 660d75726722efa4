import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface LoggerOptions {
  level: string;
  /** JSON lines go here instead of stderr. */
  file?: string;
  /** Only errors (and the summary, which is not a log line). */
  quiet?: boolean;
}

/**
 * Structured logs: JSON lines for machines (a log file, or stderr under cron), a readable rendering
 * when stderr is a terminal. stdout is kept for the summary alone so `--json` stays parseable.
 */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.quiet ? 'error' : options.level;
  const redact = { paths: ['password', '*.password', 'token', '*.token', 'secret', '*.secret', 'authorization', '*.authorization'], censor: '***' };
  if (options.file) {
    return pino({ level, redact, base: { pid: process.pid } }, pino.destination({ dest: options.file, mkdir: true, sync: true }));
  }
  if (process.stderr.isTTY) {
    return pino({ level, redact }, pretty({ destination: 2, sync: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' }));
  }
  return pino({ level, redact, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: true }));
}
