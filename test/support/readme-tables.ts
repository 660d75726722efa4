/**
 * The README's reference tables, written from the registries they describe: the options (the
 * option tables), the error codes (src/errors/codes.ts), the exit codes
 * (src/errors/exit-codes.ts), the metrics (src/metrics/series.ts) and the drift classes of `check`
 * (src/errors/drift-classes.ts). Each sits between `<!-- table:NAME -->` and `<!-- /table:NAME -->`
 * in README.md; test/docs/readme-tables.test.ts fails when one is out of date, and
 *
 *   npm run build && node dist/test/support/readme-tables.js --write
 *
 * rewrites them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CODES, type Stage } from '../../src/errors/codes.js';
import { DRIFT_CLASSES } from '../../src/errors/drift-classes.js';
import { EXIT_CODES } from '../../src/errors/exit-codes.js';
import { defaultText, synopsis, type Option, type OptionGroup } from '../../src/options/option.js';
import { ALL_OPTION_TABLES } from '../../src/cli/option-tables.js';
import { SERIES } from '../../src/metrics/series.js';

export const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

const GROUP_ORDER: OptionGroup[] = ['Run', 'Target', 'Selection', 'Check', 'Ledger', 'Output', 'History'];
const KIND_ORDER = ['skip', 'retryable', 'fatal'] as const;

const cell = (text: string) => text.replace(/\|/g, '\\|');

function flagCell(o: Option): string {
  // A flag that is on by default is written the way it is turned off.
  return cell(`\`${o.reader.type === 'boolean' && o.default === true ? `--[no-]${o.flag}` : synopsis(o)}\``);
}

/** A default as typed is code (`30s`); one described in words (the machine's parallelism) is prose. */
function defaultCell(o: Option): string {
  if (o.reader.type === 'boolean' && o.default === false) return 'off';
  const text = defaultText(o);
  if (text === undefined) return '';
  return cell(o.defaultText === undefined && o.reader.type !== 'boolean' ? `\`${text}\`` : text);
}

function optionsTable(): string {
  const seen = new Set<string>();
  const options = ALL_OPTION_TABLES.flat().filter((o) => !o.hidden && !seen.has(o.flag) && seen.add(o.flag));
  options.sort((a, b) => GROUP_ORDER.indexOf(a.group) - GROUP_ORDER.indexOf(b.group));
  const rows = options.map((o) => `| ${flagCell(o)} | ${defaultCell(o)} | ${cell(o.help)} |`);
  return ['| option | default | meaning |', '|---|---|---|', '| `<dir>` | | directory to import (`import`); for `check`, optional: the source tree to look for `missing-local` in |', ...rows].join('\n');
}

function errorsTable(): string {
  const entries = Object.entries(CODES).sort(([, a], [, b]) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
  const rows = entries.map(([code, info]) => `| \`${code}\` | ${info.kind} | ${(info.stages as readonly Stage[]).join(', ')} | ${cell(info.meaning)} |`);
  return ['| code | kind | stage | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

function exitCodesTable(): string {
  const rows = Object.values(EXIT_CODES).map((e) => `| ${e.code} | ${cell(e.meaning)} |`);
  return ['| code | meaning |', '|---|---|', ...rows].join('\n');
}

function metricsTable(): string {
  const rows = SERIES.map((s) => `| \`${s.name}\` | ${s.type} | ${['command', ...(s.label ? [s.label.name] : [])].map((l) => `\`${l}\``).join(', ')} | ${cell(s.help)} |`);
  return ['| series | type | labels | meaning |', '|---|---|---|---|', ...rows].join('\n');
}


function driftTable(): string {
  const rows = Object.entries(DRIFT_CLASSES).map(([name, info]) => `| \`${name}\` | ${cell(info.meaning)} | ${info.fix === null ? 'reported only' : cell(info.fix)} |`);
  return ['| class | meaning | `check --fix` |', '|---|---|---|', ...rows].join('\n');
}

export const TABLES: Record<string, () => string> = { options: optionsTable, errors: errorsTable, 'exit-codes': exitCodesTable, metrics: metricsTable, drift: driftTable };

const section = (name: string) => new RegExp(`(<!-- table:${name} -->)[\\s\\S]*?(<!-- /table:${name} -->)`);

/** The README's text for table `name`, or undefined when its markers are missing. */
export function tableIn(readme: string, name: string): string | undefined {
  return section(name).exec(readme)?.[0].replace(/^<!--[^\n]*-->\n?/, '').replace(/\n?<!--[^\n]*$/, '');
}

export function withTables(readme: string): string {
  let out = readme;
  for (const [name, render] of Object.entries(TABLES)) out = out.replace(section(name), (_m, open: string, close: string) => `${open}\n${render()}\n${close}`);
  return out;
}

if (process.argv.includes('--write')) {
  await writeFile(README, withTables(await readFile(README, 'utf8')));
}
