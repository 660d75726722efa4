import { readFile } from 'node:fs/promises';
import { METRICS_COMMANDS, SERIES, type MetricsCommand, type RunSnapshot, type Series } from './series.js';

/**
 * The metrics file: Prometheus text format for node_exporter's textfile collector, rendered by
 * prom-client from the series table and replaced atomically (write-file-atomic: a temporary file
 * in the same directory, fsync, rename), so the collector reads the previous file or the new one,
 * never a part. The file is shared by the commands: each run rewrites its own command's series and
 * carries the other command's over, with its own last success time and counters, from the file it
 * replaces (under a lock, see `writeMetricsFile`).
 */

/** Values read back from an earlier file, by series, command and label value. */
type Previous = Map<string, number>;

const key = (name: string, command: string, labelValue: string) => `${name}\0${command}\0${labelValue}`;

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}\s+(\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="([^"\\]*)"/g;

/**
 * The samples of a file this writer wrote (every sample has a `command` label; label values are
 * plain words, never escaped). A sample of a series, command or label value the table does not
 * have is ignored, so another file at that path brings nothing into ours.
 */
function parseMetrics(text: string): Previous {
  const byName = new Map(SERIES.map((s) => [s.name, s]));
  const out: Previous = new Map();
  for (const line of text.split('\n')) {
    const m = SAMPLE.exec(line);
    const series = m && byName.get(m[1]);
    if (!m || !series) continue;
    const labels = Object.fromEntries([...m[2].matchAll(LABEL)].map((l) => [l[1], l[2]]));
    const labelValue = series.label ? labels[series.label.name] : '';
    const value = Number(m[3]);
    if (!(METRICS_COMMANDS as readonly string[]).includes(labels.command) || !labelValues(series).includes(labelValue) || !Number.isFinite(value)) continue;
    out.set(key(series.name, labels.command, labelValue), value);
  }
  return out;
}

const labelValues = (s: Series): readonly string[] => s.label?.values ?? [''];

async function readPrevious(file: string): Promise<Previous> {
  try {
    return parseMetrics(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
}

/** The file's text after `run`: every series of this command (zeros included), and the other commands' as the file had them. */
async function renderMetrics(run: RunSnapshot, previous: Previous): Promise<string> {
  const { Counter, Gauge, Registry } = await import('prom-client');
  const registry = new Registry();
  const inFile = new Set([...previous.keys()].map((k) => k.split('\0')[1]));
  const commands: MetricsCommand[] = [run.command, ...METRICS_COMMANDS.filter((c) => c !== run.command && inFile.has(c))];
  for (const s of SERIES) {
    const labelNames = s.label ? ['command', s.label.name] : ['command'];
    const metric = s.type === 'counter' ? new Counter({ name: s.name, help: s.help, labelNames, registers: [registry] }) : new Gauge({ name: s.name, help: s.help, labelNames, registers: [registry] });
    for (const command of commands) {
      for (const labelValue of labelValues(s)) {
        const before = previous.get(key(s.name, command, labelValue)) ?? 0;
        const value = command === run.command ? s.value(run, labelValue, before) : before;
        const labels = s.label ? { command, [s.label.name]: labelValue } : { command };
        if (metric instanceof Counter) metric.inc(labels, value);
        else metric.set(labels, value);
      }
    }
  }
  return registry.metrics();
}

/** A write takes milliseconds; five seconds outlasts any other command's. */
const LOCK_WAIT = { retries: 50, factor: 1, minTimeout: 100, maxTimeout: 100, randomize: true };

/**
 * Replaces `file` atomically with the metrics after `run`. Throws when the file cannot be read or
 * written. The read and the write are one step under `<file>.lock` (proper-lockfile, as the
 * embedded server's mutex), so an import and a check ending together cannot write back each
 * other's series as they were before; the lock's name does not end in `.prom`, so the collector
 * never reads it.
 */
export async function writeMetricsFile(file: string, run: RunSnapshot): Promise<void> {
  const [{ default: lockfile }, { default: writeFileAtomic }] = await Promise.all([import('proper-lockfile'), import('write-file-atomic')]);
  const unlock = await lockfile.lock(file, {
    realpath: false,
    retries: LOCK_WAIT,
    // The default throws from a timer, which would kill the run; a lock lost to a stalled event
    // loop costs at most the other command's last update, which its next run writes again.
    onCompromised: () => undefined,
  });
  try {
    await writeFileAtomic(file, await renderMetrics(run, await readPrevious(file)));
  } finally {
    await unlock().catch(() => undefined);
  }
}
