import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** What one measured child process did. */
export interface Measured {
  code: number | null;
  signal: NodeJS.Signals | null;
  wallMs: number;
  stdout: string;
  stderr: string;
  /** Peak resident set of the process (all its threads), MiB; null when it could not be measured. */
  peakRssMb: number | null;
  /** user + system CPU seconds, when /usr/bin/time is there. */
  cpuS: number | null;
  timedOut: boolean;
}

const TIME = '/usr/bin/time';
const haveTime = existsSync(TIME);

export interface MeasureOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs: number;
  /** Keep at most this much of stdout/stderr (the tail), so a chatty child cannot fill memory. */
  maxOutput?: number;
  /** Aborted on Ctrl-C: the child's process group is killed at once (the benchmark is cleaning up). */
  signal?: AbortSignal;
}

/**
 * Runs `cmd args` to its end and measures it from outside: wall time from spawn to exit, peak RSS
 * and CPU time through `/usr/bin/time -v` (its ru_maxrss covers every thread of the child, since
 * threads share one process), or, without /usr/bin/time, by polling VmHWM in /proc/<pid>/status.
 * The child gets its own process group and is killed with it when the timeout passes or `signal`
 * is aborted.
 */
export function runMeasured(cmd: string, args: string[], o: MeasureOptions): Promise<Measured> {
  const timeFile = path.join(os.tmpdir(), `vmb-bench-time-${randomBytes(6).toString('hex')}.txt`);
  const argv = haveTime ? [TIME, '-v', '-o', timeFile, cmd, ...args] : [cmd, ...args];
  const maxOutput = o.maxOutput ?? 4 * 1024 * 1024;
  const started = performance.now();
  const child = spawn(argv[0], argv.slice(1), { env: o.env ?? process.env, cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  o.signal?.addEventListener('abort', killGroup, { once: true });
  if (o.signal?.aborted) killGroup();
  // A spawn failure is reported through 'close' (code null) below.
  child.on('error', () => undefined);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    if (stdout.length > maxOutput) stdout = stdout.slice(-maxOutput);
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (stderr.length > maxOutput) stderr = stderr.slice(-maxOutput);
  });
  let hwmKb = 0;
  const poll = haveTime
    ? null
    : setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
        } catch {
          /* gone */
        }
      }, 50);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, o.timeoutMs);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      const wallMs = performance.now() - started;
      o.signal?.removeEventListener('abort', killGroup);
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      let peakRssMb: number | null = hwmKb > 0 ? hwmKb / 1024 : null;
      let cpuS: number | null = null;
      let exit = code;
      if (haveTime) {
        try {
          const t = readFileSync(timeFile, 'utf8');
          const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(t);
          const user = /User time \(seconds\): ([\d.]+)/.exec(t);
          const sys = /System time \(seconds\): ([\d.]+)/.exec(t);
          const status = /Exit status: (\d+)/.exec(t);
          if (rss) peakRssMb = Number(rss[1]) / 1024;
          if (user && sys) cpuS = Number(user[1]) + Number(sys[1]);
          if (status) exit = Number(status[1]);
          if (/Command terminated by signal/.test(t)) exit = null;
        } catch {
          /* time did not write (killed) */
        }
        rmSync(timeFile, { force: true });
      }
      resolve({ code: exit, signal, wallMs, stdout, stderr, peakRssMb, cpuS, timedOut });
    });
  });
}

/** Run a command for its output only (no measuring); rejects on a non-zero exit. */
export function run(cmd: string, args: string[], o: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number; input?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: o.env ?? process.env, cwd: o.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out = (out + d).slice(-1_000_000)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-100_000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.slice(0, 4).join(' ')}… exited ${code ?? signal}: ${err.slice(-2000)}`));
    });
    child.stdin.end(o.input ?? '');
  });
}
