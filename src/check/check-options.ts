import path from 'node:path';
import { BACKENDS, type DriveOptions } from '../drives/backends.js';
import { COMMON_OPTIONS, METRICS_FILE_OPTION } from '../options/common.js';
import { option, parseTable, type Values } from '../options/option.js';
import { flag } from '../options/readers.js';
import { TARGET_OPTION } from '../run/import-options.js';

/** `vmb-import check`: the ledger, output and target options of an import, and its own two. */
export const CHECK_OPTIONS = [
  ...COMMON_OPTIONS,
  METRICS_FILE_OPTION,
  TARGET_OPTION,
  option({
    key: 'fix',
    flag: 'fix',
    reader: flag(),
    default: false,
    help: '`check`: bring the ledger in step with the drive (rows of moved and renamed items follow them, rows of items gone are removed, folder counts recounted) in one transaction; never changes the drive',
    group: 'Check',
    recorded: true,
  }),
  option({
    key: 'dryRun',
    flag: 'dry-run',
    reader: flag(),
    default: false,
    help: '`check`: compare and show what --fix would change; write nothing (read-only transactions)',
    group: 'Check',
  }),
] as const;

export type CheckOptions = Values<typeof CHECK_OPTIONS> & {
  /** The source tree to look for `missing-local` in, absolute; null when none is given. */
  sourceRoot: string | null;
  drive: DriveOptions;
  env: NodeJS.ProcessEnv;
};

/** yargs' arguments and the environment as checked check options, or one line saying what to fix. */
export function checkOptions(argv: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv): CheckOptions {
  const o = parseTable(CHECK_OPTIONS, argv, env);
  const drive = { kind: o.target, ...parseTable(BACKENDS[o.target].options, argv, env, o) } as DriveOptions;
  const dir = argv.dir === undefined ? null : path.resolve(String(argv.dir));
  return { ...o, sourceRoot: dir, drive, env };
}
