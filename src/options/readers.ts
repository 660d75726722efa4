import path from 'node:path';
import { parseDuration, parseSize } from './durations.js';
import { OptionProblem, type Raw, type Reader } from './option.js';

/**
 * The kinds of value an option takes. Each reads what the user typed (or what a VMB_ variable
 * holds: always a string) and says, as the end of a sentence starting with the flag, what is
 * wrong with it.
 */

const asText = (value: Raw): string => (Array.isArray(value) ? value.join(',') : String(value));

export const text = (arg = 'TEXT'): Reader<string> => ({ type: 'string', arg, read: asText });

/** A path on this machine, made absolute against the working directory. */
export const pathname = (arg = 'DIR'): Reader<string> => ({ type: 'string', arg, read: (value) => path.resolve(asText(value)) });

/** Values of a repeatable option; a VMB_ variable gives one. */
export const list = (arg: string): Reader<string[]> => ({
  type: 'array',
  arg,
  read: (value) => (Array.isArray(value) ? value.map(String) : [String(value)]),
});

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

export const flag = (): Reader<boolean> => ({
  type: 'boolean',
  read(value) {
    if (typeof value === 'boolean') return value;
    const word = asText(value).trim().toLowerCase();
    if (TRUE.has(word)) return true;
    if (FALSE.has(word)) return false;
    throw new OptionProblem('must be true or false');
  },
});

export const wholeNumber = (min: number, max: number, arg = 'N'): Reader<number> => ({
  type: 'string',
  arg,
  read(value) {
    const t = asText(value).trim();
    const n = /^-?\d+$/.test(t) ? Number(t) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new OptionProblem(`must be a whole number from ${min} to ${max}`);
    return n;
  },
});

/** Milliseconds, from `60s`, `5m`, `1h30m`, `250ms` or a bare number of seconds. */
export const duration = (example: string, { positive = false } = {}): Reader<number> => ({
  type: 'string',
  arg: 'DUR',
  read(value) {
    const ms = parseDuration(asText(value));
    if (Number.isNaN(ms) || (positive && !(ms > 0))) throw new OptionProblem(`must be a duration such as ${example}`);
    return ms;
  },
});

/** Bytes, from `10MiB`, `4MB`, `2G` or a bare number (binary units). */
export const size = (example: string): Reader<number> => ({
  type: 'string',
  arg: 'SIZE',
  read(value) {
    const n = parseSize(asText(value));
    if (!Number.isSafeInteger(n) || n < 0) throw new OptionProblem(`must be a size such as ${example}`);
    return n;
  },
});

export const choice = <const C extends string>(choices: readonly C[]): Reader<C> => ({
  type: 'string',
  arg: choices.join('|'),
  read(value) {
    const t = asText(value);
    if (!(choices as readonly string[]).includes(t)) throw new OptionProblem(`must be ${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}`);
    return t as C;
  },
});

export const isHttpUrl = (t: string) => /^https?:\/\//i.test(t) && URL.canParse(t);

export const httpUrl = (example: string): Reader<string> => ({
  type: 'string',
  arg: 'URL',
  read(value) {
    const t = asText(value);
    if (!isHttpUrl(t)) throw new OptionProblem(`must be an http(s) URL such as ${example}`);
    return t;
  },
});

/** A reader with an extra check on its value; `problem` returns what is wrong, or null. */
export const checked = <T>(reader: Reader<T>, problem: (value: T) => string | null): Reader<T> => ({
  ...reader,
  read(value) {
    const v = reader.read(value);
    const wrong = problem(v);
    if (wrong !== null) throw new OptionProblem(wrong);
    return v;
  },
});
