import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** `pg-connection-string/x.js` → `pg-connection-string`, `@azure/identity/y` → `@azure/identity`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Every package the product's own code (src/, what `npm ci --omit=dev` must run) imports. */
async function importedPackages(): Promise<Map<string, string>> {
  const builtins = new Set(builtinModules);
  const found = new Map<string, string>();
  for (const ent of await readdir(path.join(root, 'src'), { withFileTypes: true, recursive: true })) {
    if (!ent.isFile() || !ent.name.endsWith('.ts')) continue;
    const file = path.join(ent.parentPath, ent.name);
    const { importedFiles } = ts.preProcessFile(await readFile(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (fileName.startsWith('.') || fileName.startsWith('node:') || builtins.has(packageName(fileName))) continue;
      found.set(packageName(fileName), path.relative(root, file));
    }
  }
  return found;
}

test('every package the product imports is declared in package.json dependencies, not reached through another package', async () => {
  const manifest = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const imported = await importedPackages();
  assert.ok(imported.has('pg'), 'the scan finds the imports');
  const undeclared = [...imported].filter(([name]) => !(name in manifest.dependencies)).map(([name, file]) => `${name} (imported by ${file})`);
  assert.deepEqual(undeclared, []);
});
