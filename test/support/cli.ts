import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../../bin/vmb-import.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run the real executable in a child process, as a user or cron would. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return startCli(args, env).done;
}

/** Run with --json and parse the summary; fails the test with stderr when stdout is not JSON. */
export async function runJson(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult & { summary: Record<string, any> }> {
  const r = await runCli([...args, '--json', '--no-progress'], env);
  try {
    return { ...r, summary: JSON.parse(r.stdout) };
  } catch {
    throw new Error(`no JSON summary (exit ${r.code}); stderr:\n${r.stderr}\nstdout:\n${r.stdout}`);
  }
}
