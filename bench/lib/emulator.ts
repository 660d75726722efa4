import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BudgetOptions, BudgetStats } from '../../test/support/graph-emulator/budget.js';

/** This build's emulator; run.ts and ab.ts pass the one of the build they measure instead. */
const OWN_MAIN = fileURLToPath(new URL('../emulator-main.js', import.meta.url));

/** The emulator's entry point in a built checkout or a copy of one (`app` holds dist/). */
export function emulatorMainIn(app: string): string {
  return path.join(app, 'dist', 'bench', 'emulator-main.js');
}

export interface EmulatorStats {
  files: number;
  folders: number;
  bytes: number;
  requests: number;
  failed: number;
  failures: Record<string, number>;
  byMethod: Record<string, number>;
  /** The app budget's counters (RU are counted even with no budget configured). */
  budget: BudgetStats;
  /** Every upload session the emulator had, with the bytes it took, cut off and refused. */
  sessions: Array<{ name: string; state: string; received: number; bytesAccepted: number; bytesCutOff: number; bytesRefused: number }>;
}

/** A drive the emulator builds out of band: `<remoteRoot>/<corp>/f<i>/file-<j>.bin`, every file `size` bytes. */
export interface SeedSpec {
  remoteRoot: string;
  corps: number;
  folders: number;
  files: number;
  size: number;
}

/** One item of a seeded drive below its remote root, as a ledger row records it. */
export interface SeededItem {
  corp: number;
  id: string;
  /** Null for a corp folder. */
  parentId: string | null;
  name: string;
  path: string;
  isFolder: boolean;
  childCount: number;
}

export interface EmulatorProcess {
  url: string;
  token: string;
  driveId: string;
  stats(): Promise<EmulatorStats>;
  /** Builds the drive out of band; every item below the remote root. */
  seed(spec: SeedSpec): Promise<SeededItem[]>;
  /** A fresh app budget (windows aligned to when the emulator applies it), or none (null); resolves once it is in force. */
  budget(options: BudgetOptions | null): Promise<void>;
  close(): Promise<void>;
}

/**
 * A fresh Graph emulator in a child process (an empty drive), with `latencyMs` on every request,
 * started from `main` (default: this build's).
 */
export async function startEmulator(latencyMs: number, main: string = OWN_MAIN): Promise<EmulatorProcess> {
  const child: ChildProcess = fork(main, [String(latencyMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<{ url: string; token: string; driveId: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the Graph emulator did not start in 20 s')), 20_000);
    child.once('message', (m: { type: string; url: string; token: string; driveId: string }) => {
      clearTimeout(timer);
      resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`the Graph emulator exited (${code}) before it was ready`)));
  });
  let closed = false;
  const stats = (): Promise<EmulatorStats> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the Graph emulator did not answer "stats" in 60 s')), 60_000);
      child.once('message', (m: EmulatorStats) => {
        clearTimeout(timer);
        resolve(m);
      });
      child.send({ type: 'stats' });
    });
  return {
    ...ready,
    stats,
    seed: (spec) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the Graph emulator did not answer "seed" in 300 s')), 300_000);
        child.once('message', (m: { items: SeededItem[] }) => {
          clearTimeout(timer);
          resolve(m.items);
        });
        child.send({ type: 'seed', ...spec });
      }),
    budget: async (options) => {
      child.send(options === null ? { type: 'budget', off: true } : { type: 'budget', ...options });
      // The child handles messages in order and does not answer 'budget': the answer to a
      // 'stats' sent after it means the budget is in force.
      await stats();
    },
    close: () => {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        if (child.connected) child.send({ type: 'close' });
        else child.kill('SIGTERM');
      });
    },
  };
}
