/**
 * Starts the Graph emulator by hand:
 *   node dist/test/support/graph-emulator/main.js --port 8765 --token secret --latency 50
 * Prints "<base URL> <token>" on one line, then serves until SIGINT or SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startGraphEmulator } from './server.js';

const USAGE = `Usage: main.js [--port N] [--host H] [--token T] [--drive-id D] [--latency MS]
                [--simple-upload-max BYTES] [--no-store-content] [--auto-create-parents]
                [--rewrite-extensions .pdf,.docx] [--max-concurrent N]`;

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer, not "${value}"\n${USAGE}`);
    process.exit(2);
  }
  return n;
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
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }

  const emulator = await startGraphEmulator({
    port: integer('port', values.port) ?? 0,
    host: values.host,
    token: values.token,
    driveId: values['drive-id'],
    simpleUploadMax: integer('simple-upload-max', values['simple-upload-max']),
    storeContent: !values['no-store-content'],
    autoCreateParents: values['auto-create-parents'] ?? false,
    rewriteExtensions: values['rewrite-extensions']?.split(',').filter((e) => e !== ''),
  });
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
