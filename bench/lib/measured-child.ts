import type { BenchContext } from './context.js';
import { cpuSnapshot, foreignShare } from './cpu-share.js';
import type { EmulatorProcess, EmulatorStats } from './emulator.js';
import { runMeasured, type Measured } from './proc.js';

/** One measured `node` child of the benchmark, and the share of the machine others used meanwhile. */
export async function measureChild(ctx: BenchContext, args: string[], env: NodeJS.ProcessEnv): Promise<{ m: Measured; foreignCpu: number | null }> {
  const cpu0 = cpuSnapshot();
  const m = await runMeasured(process.execPath, args, { env, timeoutMs: ctx.options.timeoutMs, signal: ctx.signal });
  return { m, foreignCpu: foreignShare(cpu0, cpuSnapshot()) };
}

/** The emulator's counters after a run, and the problem its failed requests make (if any). */
export async function emulatorAfter(emu: EmulatorProcess): Promise<{ stats: EmulatorStats; problems: string[] }> {
  const stats = await emu.stats();
  return { stats, problems: stats.failed > 0 ? [`${stats.failed} Graph requests failed (${JSON.stringify(stats.failures)})`] : [] };
}

/** The last lines of a child's stderr, shortened, for a problem line. */
export function stderrTail(m: Measured, lines: number, chars: number): string {
  return m.stderr.trim().split('\n').slice(-lines).join(' | ').slice(0, chars);
}
