import { readdirSync, readFileSync } from 'node:fs';

/**
 * How much of the machine's CPU went to processes outside the benchmark's own process tree while a
 * measurement ran: other people's builds and tests show up here, and make a result suspect.
 *
 * The tree's CPU is read from /proc/<pid>/stat of the benchmark and every live descendant (utime +
 * stime + cutime + cstime, so children that exited and were reaped, such as PostgreSQL backends and
 * finished importer runs, are counted through their parents). The machine's busy time comes from
 * /proc/stat (steal included: time the hypervisor gave to someone else).
 */
export interface CpuSnapshot {
  busy: number;
  total: number;
  tree: number;
}

export function cpuSnapshot(): CpuSnapshot | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fields;
    const total = user + nice + system + idle + iowait + irq + softirq + (steal ?? 0);
    const busy = total - idle - iowait;
    return { busy, total, tree: treeTicks(process.pid) };
  } catch {
    return null;
  }
}

/** Share of the machine (0..1) used by processes outside the tree between two snapshots. */
export function foreignShare(a: CpuSnapshot | null, b: CpuSnapshot | null): number | null {
  if (!a || !b || b.total <= a.total) return null;
  const foreign = b.busy - a.busy - (b.tree - a.tree);
  return Math.max(0, foreign) / (b.total - a.total);
}

interface ProcessTicks {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime + cutime + cstime, in clock ticks. */
  ticks: number;
}

/** Every process /proc shows now, with its CPU ticks. */
function* processes(): Generator<ProcessTicks> {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // The command name is in parentheses and may contain spaces: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); ppid is field 4, utime..cstime are fields 14..17.
    yield {
      pid: Number(name),
      ppid: Number(rest[1]),
      comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
      ticks: Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]),
    };
  }
}

function treeTicks(root: number): number {
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const p of processes()) {
    parent.set(p.pid, p.ppid);
    ticks.set(p.pid, p.ticks);
  }
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parent) {
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  let sum = 0;
  const stack = [root];
  for (let guard = 0; stack.length > 0 && guard < 100_000; guard++) {
    const pid = stack.pop()!;
    sum += ticks.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return sum;
}

/**
 * CPU seconds used so far by every process whose command name or command line matches, children
 * that exited included (cutime + cstime): PostgreSQL's backends are counted through the postmaster.
 */
export function cpuSecondsOf(match: (comm: string, cmdline: string) => boolean): number {
  let ticks = 0;
  for (const p of processes()) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    if (match(p.comm, cmdline)) ticks += p.ticks;
  }
  return ticks / 100;
}
