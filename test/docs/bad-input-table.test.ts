import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { README } from '../support/readme-tables.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const readme = await readFile(README, 'utf8');
const section = readme.slice(readme.indexOf('### Bad input'), readme.indexOf('## From cron'));
const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| input') && !l.startsWith('|---'));

/** `file: name; name; file: name`: a name without a file is in the file cited before it; `…` stands for any text. */
function citations(cell: string): { file: string; name: string }[] {
  let file = '';
  return cell.split('; ').map((part) => {
    const m = /^(test\/[\w/.-]+\.ts)(?:: (.*))?$/.exec(part);
    if (m) file = m[1];
    return { file, name: m ? (m[2] ?? '') : part };
  });
}

test("the README's bad-input table cites a test for every input", () => {
  assert.ok(rows.length >= 20, `rows: ${rows.length}`);
  for (const row of rows) assert.match(row.split(' | ').at(-1)!, /test\//, row);
});

test("every test the README's bad-input table cites exists under that name in that file", async () => {
  for (const row of rows) {
    for (const { file, name } of citations(row.split(' | ').at(-1)!.replace(/ \|$/, ''))) {
      const source = await readFile(ROOT + file, 'utf8');
      const pattern = new RegExp(name.split('…').map((p) => p.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*?'));
      assert.match(source, pattern, `${file} has a test named like "${name}"`);
    }
  }
});
