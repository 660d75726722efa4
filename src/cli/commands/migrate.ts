import { EXIT_CODES } from '../../errors/exit-codes.js';
import { COMMON_OPTIONS } from '../../options/common.js';
import { parseTable } from '../../options/option.js';
import { openLedger } from '../../run/open-ledger.js';
import { Releasers } from '../../run/releasers.js';
import { commandLogger, type CommandContext } from '../command.js';

export const MIGRATE_OPTIONS = COMMON_OPTIONS;

/** `vmb-import migrate`: apply the ledger migrations and exit. */
export async function migrateCommand(argv: Readonly<Record<string, unknown>>, ctx: CommandContext): Promise<number> {
  const o = parseTable(MIGRATE_OPTIONS, argv, ctx.env);
  const log = commandLogger(o, ctx);
  const releasers = new Releasers();
  try {
    await openLedger({ databaseUrl: o.databaseUrl, dataDir: o.dataDir, env: ctx.env }, { readOnly: false, applicationName: 'vmb-import/migrate' }, releasers, log);
  } finally {
    await releasers.releaseAll((name, err) => log.warn({ step: name, err: (err as Error)?.message }, 'clean-up step failed'));
  }
  await ctx.out(o.json ? JSON.stringify({ status: 'migrated' }) + '\n' : 'ledger schema is up to date\n');
  return EXIT_CODES.ok.code;
}
