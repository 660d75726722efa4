import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { SERIES } from '../../src/metrics/series.js';
import { README } from '../support/readme-tables.js';
import { tempDir } from '../support/trees.js';

/** The README's alert rules are what Prometheus would load. */

test("the README's alert rules pass promtool check rules and query the metrics file's series", async () => {
  const readme = await readFile(README, 'utf8');
  const rules = /\*\*Alerts\.\*\*[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(rules, 'the Metrics section has a yaml block after **Alerts.**');
  const file = path.join(await tempDir('rules'), 'vmb-import.rules.yml');
  await writeFile(file, rules);

  const r = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn('promtool', ['check', 'rules', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => reject(new Error(`promtool could not be run (${err.message}): install Debian's prometheus package, as .ci/run does`)));
    child.on('close', (code) => resolve({ code, output }));
  });

  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /SUCCESS: 2 rules found/);
  assert.match(rules, /time\(\) - vmb_import_last_success_timestamp_seconds\{command="import"\} > 2 \* 300/);
  assert.match(rules, /vmb_import_drift_items\{command="check"\} > 0/);
  for (const [name] of rules.matchAll(/vmb_import_[a-z_]+/g)) assert.ok(SERIES.some((s) => s.name === name), `${name} is a series of the metrics file`);
});
