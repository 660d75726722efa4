import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository's sql/ folder; this file runs from dist/src/ledger/ after the build. */
export const SQL_DIR = fileURLToPath(new URL('../../../sql/', import.meta.url));

const cache = new Map<string, string>();

/** Text of sql/queries/NAME.sql, read once per thread. */
export function query(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(`${SQL_DIR}queries/${name}.sql`, 'utf8');
    cache.set(name, text);
  }
  return text;
}
