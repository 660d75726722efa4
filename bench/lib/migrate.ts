import path from 'node:path';
import { cleanEnv, migrateArgs } from './cli.js';
import type { BenchContext } from './context.js';
import { run } from './proc.js';

/** The importer's schema in an empty database, by the build's own `vmb-import migrate`. */
export async function migrate(ctx: BenchContext, databaseUrl: string): Promise<void> {
  await run(process.execPath, migrateArgs({ bin: ctx.build.bin, databaseUrl, dataDir: path.join(ctx.work, 'data') }), { env: cleanEnv(), timeoutMs: 120_000 });
}
