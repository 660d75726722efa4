import os from 'node:os';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ExitCode, fatal, VmbError } from '../errors.js';
import { createLogger, type Logger } from '../log/logger.js';
import { runImport, type RunSummary } from '../run/import-run.js';
import { openLedger } from '../run/open-ledger.js';
import { Releasers } from '../run/releasers.js';
import { VERSION } from '../version.js';
import { DEFAULT_GRAPH_URL, defaultDataDir, importOptions, type RawImportArgs } from './options.js';
import { historyCommandModules, historyHandlers, isHistoryCommand } from './commands/history.js';
import { createProgress } from './progress.js';
import { formatSummary } from './summary.js';

interface Common {
  json: boolean;
  progress: boolean;
  logLevel: string;
  logFile?: string;
  quiet: boolean;
  databaseUrl?: string;
  dataDir?: string;
}

function commonOptions(y: Argv) {
  return y
    .option('database-url', { type: 'string', describe: 'PostgreSQL URL of the ledger (also DATABASE_URL; PG* variables fill gaps; sslmode as in psql). Default: an embedded PostgreSQL in --data-dir', group: 'Ledger:' })
    .option('data-dir', { type: 'string', describe: `Where the embedded PostgreSQL and the default local drive live (default ${defaultDataDir()})`, group: 'Ledger:' })
    .option('json', { type: 'boolean', default: false, describe: 'Print one JSON summary on stdout and nothing else there', group: 'Output:' })
    .option('progress', { type: 'boolean', default: true, describe: 'Progress on stderr: a bar on a terminal, a plain line every few seconds otherwise (--no-progress: none)', group: 'Output:' })
    .option('log-level', { type: 'string', default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'], describe: 'Log level', group: 'Output:' })
    .option('log-file', { type: 'string', describe: 'Write JSON log lines to this file instead of stderr', group: 'Output:' })
    .option('quiet', { type: 'boolean', default: false, describe: 'Log only errors (the summary is still printed)', group: 'Output:' });
}

function importCommandOptions(y: Argv) {
  return commonOptions(y)
    .positional('dir', { type: 'string', describe: 'Directory to import; its first-level folders are corp indexes unless --corp is given', demandOption: true })
    .option('threads', { type: 'string', describe: `Worker threads, 1 to 256 (default: ${os.availableParallelism()}, this machine's parallelism)`, group: 'Run:' })
    .option('tasks-per-thread', { type: 'string', describe: 'Uploads each thread runs at once; finished ones wait for their commit apart (default 16)', group: 'Run:' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'Show what would be uploaded; upload nothing, write nothing', group: 'Run:' })
    .option('corp', { type: 'string', describe: 'Every file belongs to this corp index (otherwise the first-level folder names it)', group: 'Run:' })
    .option('batch-size', { type: 'string', describe: 'Most ledger rows one thread commits at once (default 128)', group: 'Run:' })
    .option('target', { type: 'string', default: 'local', choices: ['local', 'onedrive'], describe: 'Where files go: a local folder, or OneDrive for Business / SharePoint through Microsoft Graph', group: 'Target:' })
    .option('local-root', { type: 'string', describe: 'Directory of the local target (default <data-dir>/drive)', group: 'Target:' })
    .option('drive-id', { type: 'string', describe: 'OneDrive: id of the drive to upload to', group: 'Target:' })
    .option('remote-root', { type: 'string', describe: 'OneDrive: folder the corp folders go in (default /vmb)', group: 'Target:' })
    .option('graph-url', { type: 'string', describe: `OneDrive: Graph endpoint (default ${DEFAULT_GRAPH_URL}; national clouds and the emulator use others)`, group: 'Target:' })
    .option('authority-host', { type: 'string', describe: 'OneDrive: sign-in host for national clouds, e.g. https://login.microsoftonline.us', group: 'Target:' })
    .option('chunk-size', { type: 'string', describe: 'OneDrive: upload-session chunk, a multiple of 320KiB (default 10MiB)', group: 'Target:' })
    .option('simple-upload-max', { type: 'string', describe: 'OneDrive: files up to this size go in one PUT (default 4MiB)', group: 'Target:' })
    .option('retries', { type: 'string', describe: 'OneDrive: retries per request on throttling, 5xx and resets (default 6)', group: 'Target:' })
    .option('request-timeout', { type: 'string', describe: 'OneDrive: a request idle this long is cut and retried (default 60s)', group: 'Target:' })
    // Read from the environment only (VMB_GRAPH_TOKEN, VMB_MANAGED_IDENTITY); declared so that
    // strict parsing of VMB_* variables accepts them.
    .option('graph-token', { type: 'string', hidden: true })
    .option('managed-identity', { type: 'string', hidden: true })
    .option('name-policy', { type: 'string', choices: ['reject', 'encode'], describe: 'OneDrive: skip names OneDrive forbids (reject, default) or map bad characters to look-alikes (encode)', group: 'Target:' })
    .option('include', { type: 'string', array: true, describe: 'Only files matching this glob (relative to dir; repeatable)', group: 'Selection:' })
    .option('exclude', { type: 'string', array: true, describe: 'Leave out files and folders matching this glob (repeatable)', group: 'Selection:' })
    .option('hidden', { type: 'boolean', default: false, describe: 'Import names starting with "." (skipped otherwise)', group: 'Selection:' })
    .option('follow-symlinks', { type: 'boolean', default: false, describe: 'Follow symbolic links, detecting loops (skipped otherwise)', group: 'Selection:' })
    .option('max-size', { type: 'string', describe: 'Skip files larger than this (e.g. 2GiB)', group: 'Selection:' })
    .option('min-age', { type: 'string', describe: 'Leave files modified more recently than this for a later run (e.g. 60s)', group: 'Selection:' })
    .option('checksum', { type: 'boolean', default: false, describe: 'Treat a file as unchanged only if its content hash matches the ledger (reads every candidate file)', group: 'Selection:' })
    .option('after-upload', { type: 'string', describe: 'keep (default), delete, or move:DIR — done to a file only after its row is committed', group: 'Run:' })
    .option('max-runtime', { type: 'string', describe: 'Stop dispatching after this long (e.g. 10m), finish files in flight, record the run as partial', group: 'Run:' })
    .option('wait-lock', { type: 'string', describe: 'If another run holds this root and target, wait for it (optionally at most this long, e.g. 10m) instead of exiting with 75', group: 'Run:' })
    .option('grace', { type: 'string', describe: 'After SIGINT/SIGTERM, how long files in flight may take to finish before they are aborted (default 30s)', group: 'Run:' });
}

function loggerFor(a: Common): Logger {
  return createLogger({ level: a.logLevel, file: a.logFile, quiet: a.quiet });
}

async function importCommand(a: Common & RawImportArgs): Promise<number> {
  if (process.argv.some((arg) => arg === '--graph-token' || arg.startsWith('--graph-token='))) {
    throw fatal('config-secret-on-command-line', 'pass the Graph token in the VMB_GRAPH_TOKEN environment variable, not on the command line (where ps shows it)');
  }
  const options = importOptions(a, process.env);
  const log = loggerFor(a);
  const progress = createProgress(!a.progress || a.quiet ? 'off' : process.stderr.isTTY ? 'bar' : 'lines');
  let summary: RunSummary;
  try {
    summary = await runImport(options, {
      log,
      onProgress: (t) => progress.update(t),
      onStart: ({ runId, embeddedDataDir }) => {
        if (embeddedDataDir) log.info(`ledger: embedded PostgreSQL in ${embeddedDataDir}`);
        log.info({ runId, root: options.root, threads: options.threads, dryRun: options.dryRun }, options.dryRun ? 'dry run started' : 'import started');
      },
    });
  } finally {
    progress.stop();
  }
  await writeOut(a.json ? JSON.stringify(summary) + '\n' : formatSummary(summary));
  return exitCodeFor(summary);
}

export function exitCodeFor(s: RunSummary): number {
  if (s.status === 'interrupted') return s.stopReason === 'SIGTERM' ? ExitCode.sigterm : ExitCode.sigint;
  return s.failed > 0 || s.afterUploadFailed > 0 ? ExitCode.someFilesFailed : ExitCode.ok;
}

async function migrateCommand(a: Common): Promise<number> {
  const log = loggerFor(a);
  const releasers = new Releasers();
  try {
    await openLedger(
      { databaseUrl: a.databaseUrl ?? process.env.DATABASE_URL, dataDir: a.dataDir ?? defaultDataDir(), env: process.env },
      { dryRun: false, applicationName: 'vmb-import/migrate' },
      releasers,
      log,
    );
  } finally {
    await releasers.releaseAll(() => undefined);
  }
  await writeOut(a.json ? JSON.stringify({ status: 'migrated' }) + '\n' : 'ledger schema is up to date\n');
  return ExitCode.ok;
}

function writeOut(text: string): Promise<void> {
  return new Promise((resolve) => process.stdout.write(text, () => resolve()));
}

/** Parse the command line, run the command, and return the exit code; never throws. */
export async function main(argv: string[]): Promise<number> {
  let usageError: string | null = null;
  const parser = yargs(hideBin(argv))
    .scriptName('vmb-import')
    .usage('$0 <dir> [options]\n\nUpload every file below <dir> to a drive and record every item in PostgreSQL.')
    .env('VMB')
    // Strict for the import only: a cron environment set up with VMB_THREADS etc. must not make
    // `migrate`, `runs` or `failures` refuse to start.
    .command(['import <dir>', '$0 <dir>'], 'Import a directory tree (the default command)', (y) => importCommandOptions(y).strict())
    .command('migrate', 'Apply the ledger migrations and exit', commonOptions)
    .command(historyCommandModules(commonOptions))
    .epilogue(
      'Every option can also be set as VMB_<OPTION> (e.g. VMB_THREADS=6, VMB_DRY_RUN=true).\n' +
        'OneDrive credentials come from VMB_GRAPH_TOKEN (a bearer token), or AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET / AZURE_CLIENT_CERTIFICATE_PATH, or VMB_MANAGED_IDENTITY=1 on Azure.\n' +
        'Exit codes: 0 all files imported or unchanged; 1 some files failed; 2 usage or configuration error; 75 another run holds this root and target; 130/143 interrupted by SIGINT/SIGTERM.',
    )
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
    return ExitCode.config;
  }
  if (args.help || args.version) return ExitCode.ok;
  const command = String((args._ as unknown[])[0] ?? 'import');
  try {
    if (command === 'migrate') return await migrateCommand(args as unknown as Common);
    if (isHistoryCommand(command)) return await historyHandlers[command](args);
    return await importCommand(args as unknown as Common & RawImportArgs);
  } catch (err) {
    if (err instanceof VmbError && err.code === 'run-locked') {
      process.stderr.write(`vmb-import: ${err.message}\n`);
      return ExitCode.locked;
    }
    if (err instanceof VmbError && err.kind === 'fatal') {
      process.stderr.write(`vmb-import: ${err.message}\n`);
      return ExitCode.config;
    }
    process.stderr.write(`vmb-import: unexpected error: ${(err as Error)?.message ?? String(err)}\n`);
    return ExitCode.someFilesFailed;
  }
}
