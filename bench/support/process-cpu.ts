import { readdir, readFile } from 'node:fs/promises';

/*
 * CPU time of the run's processes from /proc (Linux), so a figure comes with who used
 * the two cores while it was measured: broker, workers, API, Redis, PostgreSQL (the
 * postmaster and all its backends), the load generator.
 */

// /proc reports CPU time in USER_HZ, which Linux fixes at 100 for user space.
const TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  cpuSeconds: number;
  rssBytes: number;
}

async function readStat(pid: number): Promise<ProcStat | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  // The command name is in parentheses and may hold spaces: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const rssPages = Number(fields[21]);
  return { pid, ppid: Number(fields[1]), cpuSeconds: (utime + stime) / TICKS_PER_SECOND, rssBytes: rssPages * 4096 };
}

async function allStats(): Promise<ProcStat[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const stats = await Promise.all(pids.map(readStat));
  return stats.filter((stat): stat is ProcStat => stat !== undefined);
}

/** A named process, alone or with every descendant (PostgreSQL forks a backend per connection). */
export interface WatchedProcess {
  name: string;
  pid: number;
  withChildren?: boolean;
}

export type CpuSample = Map<string, number>;

/** CPU seconds used so far by each watched process (and its children, when asked). */
export async function sampleCpu(watched: readonly WatchedProcess[]): Promise<{ at: number; cpu: CpuSample; busy: number }> {
  const stats = await allStats();
  const children = new Map<number, ProcStat[]>();
  for (const stat of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat]);
  const byPid = new Map(stats.map((stat) => [stat.pid, stat]));
  const cpu: CpuSample = new Map();
  for (const process of watched) {
    let total = byPid.get(process.pid)?.cpuSeconds ?? 0;
    if (process.withChildren === true) {
      const queue = [...(children.get(process.pid) ?? [])];
      while (queue.length > 0) {
        const child = queue.pop()!;
        total += child.cpuSeconds;
        queue.push(...(children.get(child.pid) ?? []));
      }
    }
    cpu.set(process.name, (cpu.get(process.name) ?? 0) + total);
  }
  return { at: performance.now(), cpu, busy: await machineBusySeconds() };
}

/** Seconds the whole machine's cores were busy (all of /proc/stat's `cpu` line but idle and iowait). */
async function machineBusySeconds(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return (ticks.reduce((sum, value) => sum + value, 0) - idle) / TICKS_PER_SECOND;
}

/**
 * Per process: share of one core used between two samples, in percent (200 % is both
 * cores of this machine), plus `machine` for every process on it, ours or not.
 */
export function cpuPercentBetween(start: Awaited<ReturnType<typeof sampleCpu>>, end: Awaited<ReturnType<typeof sampleCpu>>): Record<string, number> {
  const seconds = (end.at - start.at) / 1000;
  const result: Record<string, number> = {};
  for (const [name, used] of end.cpu) result[name] = Math.round(((used - (start.cpu.get(name) ?? 0)) / seconds) * 100);
  result.machine = Math.round(((end.busy - start.busy) / seconds) * 100);
  return result;
}

/** Resident memory of one process, bytes; 0 once it is gone. */
export async function residentBytes(pid: number): Promise<number> {
  return (await readStat(pid))?.rssBytes ?? 0;
}
