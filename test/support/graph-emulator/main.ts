/**
 * Starts the Graph emulator by hand:
 *   node dist/test/support/graph-emulator/main.js --port 8765 --token secret --latency 50
 *   node dist/test/support/graph-emulator/main.js --budget-units 1250 --budget-window-ms 60000 --no-ratelimit-headers
 * Prints "<base URL> <token>" on one line, then serves until SIGINT or SIGTERM. Its counters are
 * at GET /_emulator/stats.
 */
import { parseArgs } from 'node:util';
import type { BudgetOptions } from './budget.js';
import { startGraphEmulator } from './server.js';

const USAGE = `Usage: main.js [--port N] [--host H] [--token T] [--drive-id D] [--latency MS]
                [--simple-upload-max BYTES] [--no-store-content] [--auto-create-parents]
                [--rewrite-extensions .pdf,.docx] [--max-concurrent N]
                [--session-token-lifetime-ms MS] [--delta-page-size N] [--delta-duplicates]
                [--budget-units RU [--budget-window-ms MS] [--budget-daily-units RU]
                 [--budget-daily-window-ms MS] [--budget-fragment-units RU]
                 [--budget-upload-delete-units RU] [--no-ratelimit-headers]
                 [--omit-retry-after-every N] [--block-after-ms MS] [--block-for-ms MS]]`;

/** The flags that shape the budget, besides --budget-units and --no-ratelimit-headers. */
const BUDGET_FLAGS = {
  'budget-window-ms': 'windowMs',
  'budget-daily-units': 'dailyUnits',
  'budget-daily-window-ms': 'dailyWindowMs',
  'budget-fragment-units': 'fragmentUnits',
  'budget-upload-delete-units': 'uploadUrlDeleteUnits',
  'omit-retry-after-every': 'omitRetryAfterEvery',
  'block-after-ms': 'blockAfterMs',
  'block-for-ms': 'blockForMs',
} as const;

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) fail(`--${name} must be a non-negative integer, not "${value}"`);
  return n;
}

function budgetFrom(values: Record<string, string | boolean | undefined>): BudgetOptions | undefined {
  const units = integer('budget-units', values['budget-units'] as string | undefined);
  const shaping = [...Object.keys(BUDGET_FLAGS), 'no-ratelimit-headers'].filter((flag) => values[flag] !== undefined);
  if (units === undefined) {
    if (shaping.length > 0) fail(`--${shaping[0]} needs --budget-units`);
    return undefined;
  }
  const options: BudgetOptions = { units, rateLimitHeaders: !values['no-ratelimit-headers'] };
  for (const [flag, key] of Object.entries(BUDGET_FLAGS)) options[key] = integer(flag, values[flag] as string | undefined);
  return options;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        token: { type: 'string' },
        'drive-id': { type: 'string' },
        latency: { type: 'string' },
        'simple-upload-max': { type: 'string' },
        'no-store-content': { type: 'boolean' },
        'auto-create-parents': { type: 'boolean' },
        'rewrite-extensions': { type: 'string' },
        'max-concurrent': { type: 'string' },
        'session-token-lifetime-ms': { type: 'string' },
        'delta-page-size': { type: 'string' },
        'delta-duplicates': { type: 'boolean' },
        'budget-units': { type: 'string' },
        ...Object.fromEntries(Object.keys(BUDGET_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
        'no-ratelimit-headers': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }

  let emulator;
  try {
    emulator = await startGraphEmulator({
      port: integer('port', values.port) ?? 0,
      host: values.host,
      token: values.token,
      driveId: values['drive-id'],
      simpleUploadMax: integer('simple-upload-max', values['simple-upload-max']),
      storeContent: !values['no-store-content'],
      autoCreateParents: values['auto-create-parents'] ?? false,
      rewriteExtensions: values['rewrite-extensions']?.split(',').filter((e) => e !== ''),
      sessionTokenLifetimeMs: integer('session-token-lifetime-ms', values['session-token-lifetime-ms']),
      deltaPageSize: integer('delta-page-size', values['delta-page-size']),
      budget: budgetFrom(values),
    });
  } catch (error) {
    // The budget's own checks (a window of 0, a daily window shorter than the first, ...).
    if (error instanceof RangeError) fail(error.message);
    throw error;
  }
  emulator.delta.duplicates = values['delta-duplicates'] ?? false;
  emulator.faults.latencyMs = integer('latency', values.latency) ?? 0;
  emulator.faults.maxConcurrent = integer('max-concurrent', values['max-concurrent']) ?? 0;
  console.log(`${emulator.url} ${emulator.token}`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

await main();
