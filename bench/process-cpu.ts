/**
 * Bench-only: the CPU (user + system seconds) of this process, of the DynamoDB Local JVM it started
 * and of the whole machine, from Linux's /proc, to say where a run's CPU goes. Undefined where /proc is not there.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

interface ProcessStat {
  ppid: number;
  command: string;
  /** utime + stime, seconds. */
  cpu: number;
}

function stat(pid: string): ProcessStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(fields[1]),
      command: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')),
      cpu: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
    };
  } catch {
    return undefined; // the process ended meanwhile
  }
}

/**
 * Seconds of CPU so far: this process, the `java` processes it started (DynamoDB Local), and the whole
 * machine's busy time (every core, every process and the kernel: the sandbox workers too), from /proc/stat.
 */
export function cpuSplit(): { self: number; dynamoDbLocal: number; machine: number } | undefined {
  if (!existsSync('/proc/self/stat')) return undefined;
  let dynamoDbLocal = 0;
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    const process_ = stat(pid);
    if (process_?.command === 'java' && process_.ppid === process.pid) dynamoDbLocal += process_.cpu;
  }
  const own = process.cpuUsage();
  return { self: (own.user + own.system) / 1e6, dynamoDbLocal, machine: machineBusy() };
}

/** The machine's busy seconds so far, all cores: /proc/stat's first line less its idle and iowait. */
function machineBusy(): number {
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [idle, iowait] = [ticks[3], ticks[4]];
  return (ticks.reduce((sum, tick) => sum + tick, 0) - idle - iowait) / TICKS_PER_SECOND;
}
