// What a benchmark reads of a running operator from outside: its resident memory from /proc
// (sampled, with a peak per phase) and its counters from its /metrics endpoint.
import { readFileSync } from 'node:fs';
import { descendants } from '../world/world';
import { parseMetric } from './operator-process';

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const kib = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (!kib) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(kib) * 1024;
}

function isNode(pid: number): boolean {
  try {
    // Not /proc/PID/comm: Node 24 names its main thread "MainThread".
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    return argv0.split('/').pop() === 'node';
  } catch {
    return false;
  }
}

/**
 * The process that really runs the operator started as `pid`: the launcher runs it in its own
 * process on Node ≥ 24 and in a Node 24 child otherwise, so the largest node process of the tree.
 */
export function operatorNodeProcess(pid: number): number {
  const nodes = [pid, ...descendants(pid)].filter(isNode);
  if (nodes.length === 0) throw new Error(`no node process in the tree of ${pid}`);
  return nodes.reduce((best, candidate) => (statusField(candidate, 'VmRSS') > statusField(best, 'VmRSS') ? candidate : best));
}

/** Samples a process's VmRSS every `intervalMs`; `phasePeak()` is the highest since the last `startPhase()`. */
export class RssSampler {
  private peak = 0;
  private highest = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(readonly pid: number, intervalMs = 200) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    try {
      const rss = statusField(this.pid, 'VmRSS');
      this.peak = Math.max(this.peak, rss);
      this.highest = Math.max(this.highest, rss);
    } catch {
      // the process is gone: stop() follows
    }
  }

  startPhase(): void {
    this.peak = 0;
    this.sample();
  }

  phasePeak(): number {
    this.sample();
    return this.peak;
  }

  /**
   * The peak over the process's life: the kernel's high-water mark (VmHWM, which catches what
   * sampling misses but is updated lazily) or the highest sample, whichever is higher.
   */
  lifetimePeak(): number {
    this.sample();
    return Math.max(statusField(this.pid, 'VmHWM'), this.highest);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export interface OperatorCounters {
  cpuSeconds: number;
  /** rest_client_requests_total summed per HTTP method; empty when the operator does not export it. */
  requestsByMethod: Record<string, number>;
}

export async function operatorCounters(metricsAddress: string): Promise<OperatorCounters> {
  const text = await fetch(`http://${metricsAddress}/metrics`).then((r) => r.text());
  const requestsByMethod: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^rest_client_requests_total\{([^}]*)\} (\S+)$/.exec(line);
    if (!match) continue;
    const method = /method="([^"]+)"/.exec(match[1]!)?.[1] ?? '?';
    requestsByMethod[method] = (requestsByMethod[method] ?? 0) + Number(match[2]);
  }
  return { cpuSeconds: parseMetric(text, 'process_cpu_seconds_total') ?? Number.NaN, requestsByMethod };
}

/** What happened between two readings. */
export function countersSince(before: OperatorCounters, after: OperatorCounters): OperatorCounters {
  const methods = new Set([...Object.keys(before.requestsByMethod), ...Object.keys(after.requestsByMethod)]);
  return {
    cpuSeconds: after.cpuSeconds - before.cpuSeconds,
    requestsByMethod: Object.fromEntries([...methods].map((m) => [m, (after.requestsByMethod[m] ?? 0) - (before.requestsByMethod[m] ?? 0)])),
  };
}
