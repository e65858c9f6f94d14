import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/*
 * CPU and memory of the bench's process groups, from Linux /proc: enough to tell whether a proxy,
 * the pods or the whole machine was the bottleneck of a run.
 */

interface ProcEntry {
  pid: number;
  comm: string;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
}

let clockTicks = 0;

/** USER_HZ, the unit of /proc CPU times (100 on every common Linux). */
export function ticksPerSecond(): number {
  if (clockTicks === 0) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Every process of a process group but coreutils' timeout, which only waits. */
export function groupProcesses(pgid: number): ProcEntry[] {
  const out: ProcEntry[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone while we looked
    }
    // "pid (comm) state ppid pgrp … utime stime": comm may hold spaces and ')', so split after the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    if (Number(fields[2]) !== pgid || comm === 'timeout') continue;
    out.push({ pid: Number(entry), comm, cpuTicks: Number(fields[11]) + Number(fields[12]) });
  }
  return out;
}

/** CPU seconds used so far by the groups' live processes. */
export function groupsCpuSeconds(pgids: readonly number[]): number {
  let ticks = 0;
  for (const pgid of pgids) for (const p of groupProcesses(pgid)) ticks += p.cpuTicks;
  return ticks / ticksPerSecond();
}

/** Resident set of a group's processes, in bytes. */
export function groupRssBytes(pgid: number): { bytes: number; pids: number[] } {
  let bytes = 0;
  const pids: number[] = [];
  for (const p of groupProcesses(pgid)) {
    try {
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
      bytes += Number(rss?.[1] ?? 0) * 1024;
      pids.push(p.pid);
    } catch {
      // gone while we looked
    }
  }
  return { bytes, pids };
}

/**
 * Machine-wide CPU time from /proc/stat, in ticks: busy (everything but idle and iowait), steal
 * (taken by the hypervisor for other guests: a noisy neighbour) and total.
 */
export function machineTicks(): { busy: number; steal: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  // user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is already in user.
  const n = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = n.reduce((a, b) => a + b, 0);
  const idle = (n[3] ?? 0) + (n[4] ?? 0);
  return { busy: total - idle, steal: n[7] ?? 0, total };
}

/** CPU seconds of this process, and of its children that have exited and been reaped (wrk runs). */
export function selfCpuSeconds(): { self: number; reapedChildren: number } {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const t = ticksPerSecond();
  return { self: (Number(fields[11]) + Number(fields[12])) / t, reapedChildren: (Number(fields[13]) + Number(fields[14])) / t };
}

export interface ThreadSample {
  /** CPU seconds of the process's main thread (the event loop), and of the whole process. */
  mainThreadCpuS: number;
  processCpuS: number;
  /** Context switches of the main thread: it waited (voluntary) or was preempted (involuntary). */
  voluntarySwitches: number;
  involuntarySwitches: number;
}

/** The event loop thread of a Node process (its main thread, tid = pid), from /proc. */
export function sampleMainThread(pid: number): ThreadSample {
  const cpu = (file: string): number => {
    const stat = readFileSync(file, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  };
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
  const count = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return {
    mainThreadCpuS: cpu(`/proc/${pid}/task/${pid}/stat`),
    processCpuS: cpu(`/proc/${pid}/stat`),
    voluntarySwitches: count('voluntary_ctxt_switches'),
    involuntarySwitches: count('nonvoluntary_ctxt_switches'),
  };
}
