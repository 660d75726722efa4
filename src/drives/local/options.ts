import path from 'node:path';
import { option } from '../../options/option.js';
import { pathname } from '../../options/readers.js';

export const LOCAL_OPTIONS = [
  option({
    key: 'localRoot',
    flag: 'local-root',
    reader: pathname('DIR'),
    default: (given) => path.join(String(given.dataDir), 'drive'),
    defaultText: '`<data-dir>/drive`',
    help: "the local drive's folder",
    group: 'Target',
    recorded: true,
  }),
] as const;
