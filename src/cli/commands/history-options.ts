import { COMMON_OPTIONS } from '../../options/common.js';
import { option, OptionProblem, type Reader } from '../../options/option.js';
import { wholeNumber } from '../../options/readers.js';

const runId: Reader<number> = {
  type: 'string',
  arg: 'N',
  read(value) {
    const n = /^\d+$/.test(String(value).trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) throw new OptionProblem('must be a run id, a whole number from 1 (vmb-import runs lists them)');
    return n;
  },
};

const limit = (byDefault: number) =>
  option({ key: 'limit', flag: 'limit', reader: wholeNumber(0, 1_000_000), default: String(byDefault), defaultText: '20 for `runs`, 100 for `failures`', help: 'how many to list (0: all)', group: 'History' });

export const RUNS_OPTIONS = [...COMMON_OPTIONS, limit(20)] as const;
export const FAILURES_OPTIONS = [
  ...COMMON_OPTIONS,
  option({ key: 'run', flag: 'run', reader: runId, defaultText: 'the most recent run', help: 'the run whose failures to list', group: 'History' }),
  limit(100),
] as const;
