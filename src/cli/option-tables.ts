import { CHECK_OPTIONS } from '../check/check-options.js';
import { DRIVE_OPTIONS, IMPORT_OPTIONS } from '../run/import-options.js';
import { FAILURES_OPTIONS, RUNS_OPTIONS } from './commands/history-options.js';

/** Every option table of every command: what --help lists, and what makes a VMB_ variable known. */
export const ALL_OPTION_TABLES = [IMPORT_OPTIONS, DRIVE_OPTIONS, CHECK_OPTIONS, RUNS_OPTIONS, FAILURES_OPTIONS] as const;
