import type { Logger } from '../log/logger.js';
import { createLogger } from '../log/logger.js';
import { unknownVariables } from '../options/environment.js';
import type { OptionTable } from '../options/option.js';

/** What a command gets from main: the environment, stdout, and a place to leave its logger for main's error report. */
export interface CommandContext {
  env: NodeJS.ProcessEnv;
  out: (text: string) => Promise<void> | void;
  /** Every option table of every command: what makes a VMB_ variable known. */
  known: readonly OptionTable[];
  /** Set by the command once it has one, so that main can log the stack of an unexpected error there. */
  log?: Logger;
}

/** The command's logger from its output options, after one warning per VMB_ variable no option reads. */
export function commandLogger(o: { logLevel: string; logFile?: string; quiet: boolean }, ctx: CommandContext): Logger {
  const log = createLogger({ level: o.logLevel, file: o.logFile, quiet: o.quiet });
  ctx.log = log;
  for (const v of unknownVariables(ctx.env, ctx.known)) {
    log.warn({ variable: v.name }, `ignoring ${v.name}: no option reads it${v.nearest ? ` (did you mean ${v.nearest}?)` : ''}`);
  }
  return log;
}
