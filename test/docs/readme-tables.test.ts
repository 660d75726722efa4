import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { README, TABLES, tableIn } from '../support/readme-tables.js';

const readme = await readFile(README, 'utf8');

for (const [name, render] of Object.entries(TABLES)) {
  test(`the README's ${name} table is the one its registry gives (node dist/test/support/readme-tables.js --write rewrites it)`, () => {
    const inReadme = tableIn(readme, name);
    assert.ok(inReadme !== undefined, `README.md has <!-- table:${name} --> … <!-- /table:${name} -->`);
    assert.equal(inReadme, render());
  });
}
