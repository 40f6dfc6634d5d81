import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';

/**
 * How many threads a forward uses and how long they spin for the next job, decided from the load
 * on the machine. A spinning thread only pays when it has a core of its own: on an oversubscribed
 * machine it burns the time slice the working thread needed, and worse, every op ends by waiting
 * for each worker's share, so an op costs a scheduling delay (milliseconds) whenever a worker
 * was descheduled. With 5 busy processes on 2 cores, ShuffleNet's forward went from 5.8 ms to
 * 193 ms on 2 threads; one thread, which waits for no one, does far better there.
 */

/**
 * How long a thread spins for the next job (or for a job to finish) before it sleeps, at most
 * (less on a loaded machine). Long enough to span the gaps inside a forward (SE's chain of small
 * ops, the input copy before the first op): a thread that sleeps idles its core, and on a virtual
 * machine waking it again took 50 to several hundred microseconds. With 100 here a lone 0.2 ms
 * pooling op read 0.216 ms ±83%, with 1000 0.173 ms ±16%. It costs at most a millisecond of one
 * core after the last op.
 */
export const SPIN_MICROS = 1000;

export interface LoadSample {
  /** Cores this process may run on (os.availableParallelism). */
  cores: number;
  /** Runnable threads of other processes right now (or over the last minute where that is all there is). */
  external: number;
}

export interface ThreadPlan {
  /** Threads a forward splits its ops over (1: all inline on the calling thread). */
  threads: number;
  /** Microseconds a thread spins for the next job before it sleeps. */
  spinMicros: number;
  /** Why fewer threads than the backend has, or no spin; empty when the machine is free. */
  reason: string;
}

/**
 * The plan for a backend of `threads` threads under `load`. `adaptive` (the thread count was not
 * asked for) lets it use fewer threads: as many as there are cores left by other processes,
 * rounded, at least one. The spin is full while every thread used has a whole core, scaled down
 * as the last core is shared, and none once a thread has no core of its own.
 */
export function threadPlan(threads: number, load: LoadSample, adaptive: boolean): ThreadPlan {
  const external = Math.max(0, load.external);
  const free = load.cores - external;
  const used = adaptive ? Math.max(1, Math.min(threads, Math.round(free))) : threads;
  // Cores left over once every thread used has one: >= 0 spins fully, -1 or less not at all.
  const spare = free - used;
  const spinMicros = used < 2 ? 0 : Math.round(SPIN_MICROS * Math.min(1, Math.max(0, 1 + spare)));
  const parts: string[] = [];
  if (used < threads) parts.push(`${used} of ${threads} threads used`);
  if (used > 1 && spinMicros < SPIN_MICROS) parts.push(spinMicros === 0 ? 'no spin-wait' : `spin-wait ${spinMicros} us`);
  const reason = parts.length ? `${parts.join(', ')}: ${fmtLoad(external)} other runnable threads on ${load.cores} cores` : '';
  return { threads: used, spinMicros, reason };
}

const fmtLoad = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));

/**
 * The runnable count of /proc/loadavg's fourth field ("2/107": 2 runnable of 107), or null.
 * It counts this process's running threads too (ownRunning subtracts them).
 */
export function parseRunnable(procLoadavg: string): number | null {
  const m = /^\S+\s+\S+\s+\S+\s+(\d+)\/\d+/.exec(procLoadavg);
  return m ? Number(m[1]) : null;
}

/** The state letter of a /proc/<pid>/task/<tid>/stat line (after the parenthesised name, which may hold spaces). */
export function taskState(stat: string): string {
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/**
 * This process's threads that are runnable now: this one, and any worker spinning, V8 compiling
 * the kernels in the background or collecting garbage. They are not other processes' load.
 */
function ownRunning(): number {
  let n = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (taskState(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')) === 'R') n++;
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return Math.max(1, n);
}

/**
 * Other processes' load, from what the OS gives: on Linux the threads runnable right now less
 * this process's own (the one-minute load average lags a minute behind a load that just started,
 * and counts this process's own last minute of work); elsewhere the one-minute load average (0
 * on Windows, which has none: the machine then reads as free). Counts over more CPUs than this
 * process may use (a container's CPU set on a larger host) are scaled to its share.
 */
export function sampleLoad(): LoadSample {
  const cores = availableParallelism();
  const host = Math.max(cores, cpus().length);
  let external: number;
  let runnable: number | null = null;
  try {
    runnable = parseRunnable(readFileSync('/proc/loadavg', 'utf8'));
  } catch {
    // Not Linux.
  }
  if (runnable !== null) external = Math.max(0, runnable - ownRunning());
  else external = loadavg()[0];
  return { cores, external: (external * cores) / host };
}

/**
 * One runnable count says little (a compiler starting, a test finishing), so the backend smooths
 * its samples: an exponential average over `tauMs`, as the kernel's own load averages are (over
 * a minute; a second here, to follow a load that starts or stops between two profiles).
 */
export function smoothLoad(prev: { value: number; at: number } | null, sample: number, at: number, tauMs = 1000): { value: number; at: number } {
  if (!prev) return { value: sample, at };
  const keep = Math.exp(-Math.max(0, at - prev.at) / tauMs);
  return { value: prev.value * keep + sample * (1 - keep), at };
}
