import { execFileSync } from 'node:child_process';
import { cp, mkdir, rm, symlink } from 'node:fs/promises';
import path from 'node:path';

/** The copy of the build every child process of the benchmark runs from. */
export interface Build {
  /** The copy's root: dist, bin, sql, package.json, and node_modules linked to the tree's. */
  app: string;
  /** The CLI. */
  bin: string;
  /** The copy's dist/bench: floors.js, reference-importer.js, emulator-main.js. */
  distBench: string;
}

/**
 * Other people rebuild dist/ in this tree while the benchmark runs (a run that met a half-written
 * build failed every file). So the build is copied once, at the start, into the work directory
 * (dist, bin, sql, package.json; node_modules linked), and every child process runs that copy.
 */
export async function snapshotBuild(repo: string, work: string): Promise<Build> {
  const app = path.join(work, 'app');
  await rm(app, { recursive: true, force: true });
  await mkdir(app, { recursive: true });
  for (const part of ['dist', 'bin', 'sql', 'package.json']) await cp(path.join(repo, part), path.join(app, part), { recursive: true });
  await symlink(path.join(repo, 'node_modules'), path.join(app, 'node_modules'), 'dir');
  return { app, bin: cliIn(app), distBench: path.join(app, 'dist', 'bench') };
}

/** The CLI's entry point in a built checkout or a copy of one. */
export function cliIn(app: string): string {
  return path.join(app, 'bin', 'vmb-import.js');
}

/** "baseline <short commit>" for a --baseline checkout ("?" when it is not a git checkout). */
export function baselineLabel(dir: string): string {
  let commit = '?';
  try {
    commit = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // Not a git checkout: the label says so.
  }
  return `baseline ${commit}`;
}
