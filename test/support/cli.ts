import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../../bin/vmb-import.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Run as this unprivileged user (through setpriv), for checks that root would bypass. */
  user?: 'nobody';
}

/** Run the real executable in a child process, as a user or cron would. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}, options: CliOptions = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const command = options.user ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, BIN, ...args] : [process.execPath, BIN, ...args];
  const child = spawn(command[0], command.slice(1), {
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

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, env, options).done;
}

/** Run with --json and parse the summary; fails the test with stderr when stdout is not JSON. */
export async function runJson(args: string[], env: NodeJS.ProcessEnv = {}, options: CliOptions = {}): Promise<CliResult & { summary: Record<string, any> }> {
  const r = await runCli([...args, '--json', '--no-progress'], env, options);
  try {
    return { ...r, summary: JSON.parse(r.stdout) };
  } catch {
    throw new Error(`no JSON summary (exit ${r.code}); stderr:\n${r.stderr}\nstdout:\n${r.stdout}`);
  }
}
