import type { EmulatorProcess } from './emulator.js';

/** Only what the CLI needs: no VMB_* or DATABASE_URL from the caller's shell leaks into a run. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C', ...extra };
}

/** Where one run of the CLI uploads to. */
export type CliTarget =
  | { kind: 'local'; localRoot: string }
  | {
      kind: 'onedrive';
      emulator: EmulatorProcess;
      /** Passed as --chunk-size and --simple-upload-max when given; else the CLI's defaults apply. */
      chunkSize?: number;
      simpleMax?: number;
    };

/** The flags every benchmark run of the CLI shares: machine-readable, quiet, its data dir. */
function commonArgs(databaseUrl: string, dataDir: string): string[] {
  return ['--database-url', databaseUrl, '--json', '--no-progress', '--data-dir', dataDir];
}

/** The command line (after `node`) of one import of `root` by the CLI at `bin`. */
export function importArgs(o: { bin: string; root: string; databaseUrl: string; dataDir: string; threads: number; tasks: number; target: CliTarget }): string[] {
  return [o.bin, o.root, ...commonArgs(o.databaseUrl, o.dataDir), '--threads', String(o.threads), '--tasks-per-thread', String(o.tasks), ...targetArgs(o.target)];
}

/** The command line (after `node`) of `vmb-import migrate`. */
export function migrateArgs(o: { bin: string; databaseUrl: string; dataDir: string }): string[] {
  return [o.bin, 'migrate', ...commonArgs(o.databaseUrl, o.dataDir)];
}

function targetArgs(t: CliTarget): string[] {
  if (t.kind === 'local') return ['--target', 'local', '--local-root', t.localRoot];
  return [
    '--target', 'onedrive', '--graph-url', t.emulator.url, '--drive-id', t.emulator.driveId, '--remote-root', '/vmb',
    ...(t.chunkSize !== undefined ? ['--chunk-size', String(t.chunkSize)] : []),
    ...(t.simpleMax !== undefined ? ['--simple-upload-max', String(t.simpleMax)] : []),
  ];
}

/** The JSON object a child printed as its last line (the CLI's --json summary, a floor's result), or null. */
export function lastJsonLine(stdout: string): Record<string, any> | null {
  try {
    return JSON.parse(stdout.trim().split('\n').pop() ?? '');
  } catch {
    return null;
  }
}
