import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { fatal } from '../errors/vmb-error.js';
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
    assertWritable(options.file);
    return pino({ level, redact, base: { pid: process.pid } }, pino.destination({ dest: options.file, mkdir: true, sync: true }));
  }
  if (process.stderr.isTTY) {
    return pino({ level, redact }, pretty({ destination: 2, sync: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' }));
  }
  return pino({ level, redact, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: true }));
}

/** A log file that cannot be written is a configuration error, said before the run starts, not a crash of the logger later. */
function assertWritable(file: string): void {
  try {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    closeSync(openSync(file, 'a'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw fatal('config-option', `--log-file ${file} cannot be written (${e.code ?? e.message}); pick a file in a writable directory`);
  }
}
