import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { EXIT_CODES } from '../errors/exit-codes.js';
import { VmbError } from '../errors/vmb-error.js';
import { DRIVE_OPTIONS, IMPORT_OPTIONS } from '../run/import-options.js';
import { VERSION } from '../version.js';
import type { CommandContext } from './command.js';
import { checkCommand, checkCommandModule } from './commands/check.js';
import { historyCommandModules, historyHandlers, isHistoryCommand } from './commands/history.js';
import { importCommand } from './commands/import.js';
import { MIGRATE_OPTIONS, migrateCommand } from './commands/migrate.js';
import { ALL_OPTION_TABLES } from './option-tables.js';
import { declareOptions } from './yargs-options.js';

const EPILOGUE = [
  'Every option can also be set as VMB_<OPTION> (e.g. VMB_THREADS=6, VMB_DRY_RUN=true); the command line wins.',
  'OneDrive credentials come from VMB_GRAPH_TOKEN (a bearer token), or AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET / AZURE_CLIENT_CERTIFICATE_PATH, or VMB_MANAGED_IDENTITY=1 on Azure.',
  `Exit codes: ${Object.values(EXIT_CODES)
    .map((e) => `${e.code} ${e.meaning.split(/[:(;]/)[0].trim()}`)
    .join('; ')}.`,
].join('\n');

/** Parse the command line, run the command, and return the exit code; never throws. */
export async function main(argv: string[]): Promise<number> {
  let usageError: string | null = null;
  const parser = yargs(hideBin(argv))
    .scriptName('vmb-import')
    .usage('$0 <dir> [options]\n\nUpload every file below <dir> to a drive and record every item in PostgreSQL.')
    .command(['import <dir>', '$0 <dir>'], 'Import a directory tree (the default command)', (y) =>
      declareOptions(declareOptions(y, IMPORT_OPTIONS), DRIVE_OPTIONS).positional('dir', {
        type: 'string',
        describe: 'Directory to import; its first-level folders are corp indexes unless --corp is given',
        demandOption: true,
      }),
    )
    .command('migrate', 'Apply the ledger migrations and exit', (y) => declareOptions(y, MIGRATE_OPTIONS))
    .command(checkCommandModule)
    .command(historyCommandModules())
    // The environment is the option tables' to read (an unknown VMB_ variable is only warned of);
    // the command line is strict.
    .strict()
    .epilogue(EPILOGUE)
    .version(VERSION)
    .help()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      usageError = msg ?? err?.message ?? 'invalid command line';
    });
  let args: Record<string, unknown>;
  try {
    args = await parser.parseAsync();
  } catch (err) {
    usageError ??= (err as Error).message;
    args = {};
  }
  if (usageError) {
    process.stderr.write(`vmb-import: ${usageError}; run vmb-import --help\n`);
    return EXIT_CODES.config.code;
  }
  if (args.help || args.version) return EXIT_CODES.ok.code;
  const command = String((args._ as unknown[])[0] ?? 'import');
  const ctx: CommandContext = { env: process.env, out: writeOut, known: ALL_OPTION_TABLES };
  try {
    if (command === 'migrate') return await migrateCommand(args, ctx);
    if (command === 'check') return await checkCommand(args, ctx);
    if (isHistoryCommand(command)) return await historyHandlers[command](args, ctx);
    return await importCommand(args, ctx);
  } catch (err) {
    return reportError(err, ctx);
  }
}

/** One line on stderr for whatever ended the command, and the exit code it stands for. */
function reportError(err: unknown, ctx: CommandContext): number {
  if (err instanceof VmbError && err.code === 'run-locked') {
    process.stderr.write(`vmb-import: ${err.message}\n`);
    return EXIT_CODES.locked.code;
  }
  if (err instanceof VmbError && err.code === 'drive-listing-failed') {
    process.stderr.write(`vmb-import: ${err.message}\n`);
    return EXIT_CODES.unlisted.code;
  }
  if (err instanceof VmbError && err.kind === 'fatal' && err.code !== 'internal-error') {
    process.stderr.write(`vmb-import: ${err.message}\n`);
    return EXIT_CODES.config.code;
  }
  // A bug: the stack goes to the log, the line to stderr, and cron sees EX_SOFTWARE, not "some files failed".
  const e = err instanceof Error ? err : new Error(String(err));
  ctx.log?.error({ code: 'internal-error', stack: e.stack }, `unexpected error: ${e.message}`);
  process.stderr.write(`vmb-import: unexpected error (a bug, exit ${EXIT_CODES.software.code}): ${e.message}${ctx.log ? '; the stack is in the log' : ''}\n`);
  return EXIT_CODES.software.code;
}

function writeOut(text: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(text, () => resolve()));
}
