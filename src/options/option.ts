import { fatal } from '../errors/vmb-error.js';

/**
 * One declarative entry per option (after rclone's `fs.Option` lists): its flag, how its value
 * is read and checked, its default, its help and group, and whether the run row keeps it. The
 * command line (yargs), `--help` with its defaults, the `VMB_*` environment variables, the typed
 * options and the README's option table are all derived from these entries, so a new option is
 * one entry in one table.
 */

/** A value as yargs or the environment hand it over. */
export type Raw = string | boolean | string[];

export type OptionGroup = 'Run' | 'Selection' | 'Target' | 'Ledger' | 'Output' | 'History' | 'Check';

/** What a reader throws: the end of the sentence that starts with the flag ("must be a size such as 10MiB"). */
export class OptionProblem extends Error {}

/** How one kind of value is typed on the command line and checked. */
export interface Reader<T> {
  /** How yargs reads it. */
  readonly type: 'string' | 'boolean' | 'array';
  /** Placeholder after the flag in --help and the README: N, DUR, SIZE, URL, DIR. */
  readonly arg?: string;
  read(value: Raw): T;
}

/** Options already read, for a default that depends on another option (`<data-dir>/drive`). */
export type Given = Readonly<Record<string, unknown>>;

export type Default = Raw | ((given: Given, env: NodeJS.ProcessEnv) => Raw | undefined);

interface Declaration<K extends string, T> {
  /** Property of the parsed options, e.g. `tasksPerThread`. */
  readonly key: K;
  /** The flag without dashes, e.g. `tasks-per-thread`; its variable is VMB_TASKS_PER_THREAD. */
  readonly flag: string;
  readonly reader: Reader<T>;
  /** One line: what it does. --help and the README show exactly this. */
  readonly help: string;
  readonly group: OptionGroup;
  /** Read when the option is given neither on the command line nor in the environment. */
  readonly default?: Default;
  /** The default as --help and the README show it; required when `default` is computed. */
  readonly defaultText?: string;
  /** Kept in the run's row (`vmb_import_runs.options`); never set on a secret. */
  readonly recorded?: boolean;
  /** Handed to the worker threads (src/types.ts `WorkerConfig`), under the same name. */
  readonly worker?: boolean;
  /** Not in --help or the README. */
  readonly hidden?: boolean;
  /** Refused on the command line, where `ps` shows it: the environment only. */
  readonly environmentOnly?: boolean;
}

export interface Option<K extends string = string, T = unknown, V = unknown> extends Declaration<K, T> {
  /** The checked value: from the command line, else the environment, else the default. */
  parse(given: Given, argv: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv): V;
}

export type OptionTable = readonly Option<string, unknown, unknown>[];

/** The parsed options of a table, keyed by `key`; an option without a default may be undefined. */
export type Values<T extends OptionTable> = { -readonly [O in T[number] as O['key']]: ReturnType<O['parse']> };

export function option<const K extends string, T>(d: Declaration<K, T> & { default: Default }): Option<K, T, T>;
export function option<const K extends string, T>(d: Declaration<K, T>): Option<K, T, T | undefined>;
export function option<const K extends string, T>(d: Declaration<K, T>): Option<K, T, T | undefined> {
  return {
    ...d,
    parse(given, argv, env) {
      const variable = envName(d.flag);
      const fromLine = argv[d.flag] as Raw | undefined;
      if (d.environmentOnly && fromLine !== undefined) {
        throw fatal('config-secret-on-command-line', `pass --${d.flag} in the ${variable} environment variable, not on the command line (where ps shows it)`);
      }
      const [raw, source] =
        fromLine !== undefined
          ? [fromLine, '']
          : env[variable] !== undefined
            ? [env[variable] as Raw, ` from ${variable}`]
            : [typeof d.default === 'function' ? d.default(given, env) : d.default, ''];
      if (raw === undefined) return undefined;
      try {
        return d.reader.read(raw);
      } catch (err) {
        if (!(err instanceof OptionProblem)) throw err;
        throw fatal('config-option', `--${d.flag} ${err.message} (got ${JSON.stringify(raw)}${source})`);
      }
    },
  };
}

/** `tasks-per-thread` → `VMB_TASKS_PER_THREAD`. */
export const envName = (flag: string) => `VMB_${flag.toUpperCase().replace(/-/g, '_')}`;

/** Every option of `table`, read and checked, each later one seeing the ones before it. */
export function parseTable<T extends OptionTable>(table: T, argv: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv, given: Given = {}): Values<T> {
  const out: Record<string, unknown> = { ...given };
  for (const o of table) out[o.key] = o.parse(out, argv, env);
  for (const key of Object.keys(given)) delete out[key];
  return out as Values<T>;
}

/** The default as --help and the README show it, or undefined when there is none worth showing. */
export function defaultText(o: Option): string | undefined {
  if (o.defaultText !== undefined) return o.defaultText;
  if (o.default === undefined || typeof o.default === 'function' || o.default === false || (Array.isArray(o.default) && o.default.length === 0)) return undefined;
  return o.default === true ? 'on' : String(o.default);
}

/** `--tasks-per-thread N`, `--dry-run`: the option as the README's table writes it. */
export const synopsis = (o: Option) => `--${o.flag}${o.reader.arg ? ` ${o.reader.arg}` : ''}`;
