import { DRIFT_CLASS_NAMES, type DriftClass } from '../errors/drift-classes.js';
import type { RunStatus, ThrottlingTally } from '../types.js';

/**
 * Every series of the metrics file (`--metrics-file`), one entry each: its name, help, type, the
 * label it is split by beside `command`, and how its value is read from the end of a run. The
 * writer, the reader of the previous file, the README's metrics table and the tests all go by
 * this table, so a new series is one entry here.
 */

/** The commands that share one metrics file, each under its own `command` label. */
export const METRICS_COMMANDS = ['import', 'check'] as const;
export type MetricsCommand = (typeof METRICS_COMMANDS)[number];

/** What became of the files a run saw, as the `outcome` label says it (the summary's counts, in Prometheus' snake case). */
export const FILE_OUTCOMES = ['uploaded', 'unchanged', 'skipped', 'failed', 'deferred', 'left_for_next_run'] as const;
export type FileOutcome = (typeof FILE_OUTCOMES)[number];

// A record rather than a list, so that a status added to RunStatus fails to compile here until it has its series.
const STATUS_SET: Record<RunStatus, true> = { succeeded: true, failed: true, partial: true, interrupted: true };
export const RUN_STATUSES = Object.keys(STATUS_SET) as RunStatus[];

/** What a command tells the metrics about its run; what does not apply to it is left out and written as zero. */
export interface RunMetrics {
  status: RunStatus;
  durationMs: number;
  files?: Partial<Record<FileOutcome, number>>;
  bytesUploaded?: number;
  /** The traffic governor's tally (OneDrive); absent: nothing was throttled. */
  throttling?: ThrottlingTally;
  /** `check`: the items found, by drift class. */
  drift?: Partial<Record<DriftClass, number>>;
}

/** One run's end, as the metrics file records it. */
export interface RunSnapshot extends RunMetrics {
  command: MetricsCommand;
  /** The run's exit code was 0: the only runs that move the last success time. */
  success: boolean;
  /** When the run ended, ms since the epoch. */
  endedAt: number;
}

export interface Series {
  /** Prometheus conventions: the `vmb_import_` prefix, base units (seconds, bytes), `_total` on counters. */
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  /** The label beside `command` and every value it takes: each value is its own series, written even when zero. */
  readonly label?: { readonly name: string; readonly values: readonly string[] };
  /**
   * This command's value after `run` for one value of the label ('' without one); `before` is the
   * series' value in the file before this run (0 when there was none), which a counter adds to and
   * the last success time keeps.
   */
  readonly value: (run: RunSnapshot, labelValue: string, before: number) => number;
}

const seconds = (ms: number) => ms / 1000;

export const SERIES: readonly Series[] = [
  {
    name: 'vmb_import_last_run_timestamp_seconds',
    help: 'When the last run ended, seconds since the epoch (every run, whatever its outcome).',
    type: 'gauge',
    value: (run) => seconds(run.endedAt),
  },
  {
    name: 'vmb_import_last_success_timestamp_seconds',
    help: 'When the last run that exited 0 ended, seconds since the epoch; 0: none yet. A failed run leaves it.',
    type: 'gauge',
    value: (run, _label, before) => (run.success ? seconds(run.endedAt) : before),
  },
  {
    name: 'vmb_import_last_run_duration_seconds',
    help: 'Wall time of the last run.',
    type: 'gauge',
    value: (run) => seconds(run.durationMs),
  },
  {
    name: 'vmb_import_last_run_status',
    help: 'The status of the last run: 1 for its status, 0 for the others.',
    type: 'gauge',
    label: { name: 'status', values: RUN_STATUSES },
    value: (run, status) => (run.status === status ? 1 : 0),
  },
  {
    name: 'vmb_import_last_run_files',
    help: 'Files the last run saw, by what became of them.',
    type: 'gauge',
    label: { name: 'outcome', values: FILE_OUTCOMES },
    value: (run, outcome) => run.files?.[outcome as FileOutcome] ?? 0,
  },
  {
    name: 'vmb_import_last_run_uploaded_bytes',
    help: 'Bytes of the files the last run uploaded and recorded.',
    type: 'gauge',
    value: (run) => run.bytesUploaded ?? 0,
  },
  {
    name: 'vmb_import_throttled_requests_total',
    help: 'Requests the drive throttled (429/503), over every run since the file was created.',
    type: 'counter',
    value: (run, _label, before) => before + (run.throttling?.throttledRequests ?? 0),
  },
  {
    name: 'vmb_import_throttle_held_seconds_total',
    help: 'Time no request could start because the drive asked to wait, over every run since the file was created.',
    type: 'counter',
    value: (run, _label, before) => before + seconds(run.throttling?.heldMs ?? 0),
  },
  {
    name: 'vmb_import_drift_items',
    help: 'Items drifted between the ledger and the drive after the last check, by drift class (after --fix: what it did not mend; always 0 for import).',
    type: 'gauge',
    label: { name: 'class', values: DRIFT_CLASS_NAMES },
    value: (run, driftClass) => run.drift?.[driftClass as DriftClass] ?? 0,
  },
];
