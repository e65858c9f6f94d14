/*
 * How numbers read on the dashboard: short, with a space before the unit (`1.2 s`, `350 ms`,
 * `3 m ago`, `1.5 MiB`), so a column of them scans at a glance.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Trims a fixed-point number's trailing `.0`. */
function fixed(value: number, digits: number): string {
  const text = value.toFixed(digits);
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/** A duration: `0.4 ms`, `350 ms`, `1.2 s`, `2 m 5 s`, `1 h 20 m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const abs = Math.abs(ms);
  const sign = ms < 0 ? '-' : '';
  if (abs < 10) return `${sign}${fixed(abs, 1)} ms`;
  if (abs < SECOND) return `${sign}${Math.round(abs)} ms`;
  if (abs < MINUTE) return `${sign}${fixed(abs / SECOND, abs < 10 * SECOND ? 1 : 0)} s`;
  if (abs < HOUR) {
    const m = Math.floor(abs / MINUTE);
    const s = Math.floor((abs % MINUTE) / SECOND);
    return s === 0 ? `${sign}${m} m` : `${sign}${m} m ${s} s`;
  }
  if (abs < DAY) {
    const h = Math.floor(abs / HOUR);
    const m = Math.floor((abs % HOUR) / MINUTE);
    return m === 0 ? `${sign}${h} h` : `${sign}${h} h ${m} m`;
  }
  const d = Math.floor(abs / DAY);
  const h = Math.floor((abs % DAY) / HOUR);
  return h === 0 ? `${sign}${d} d` : `${sign}${d} d ${h} h`;
}

/** The largest whole unit of a span: `12 s`, `3 m`, `2 h`, `4 d`. */
function coarse(ms: number): string {
  if (ms < MINUTE) return `${Math.floor(ms / SECOND)} s`;
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)} m`;
  if (ms < DAY) return `${Math.floor(ms / HOUR)} h`;
  return `${Math.floor(ms / DAY)} d`;
}

/** How long ago: `just now` (under a second), `12 s ago`, `3 m ago`, `2 h ago`. */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms < SECOND) return 'just now';
  return `${coarse(ms)} ago`;
}

/**
 * A time relative to now: `3 m ago` for the past, `in 25 s` for the future. Within a second either
 * way it is `just now`: the page's clock ticks once a second, so a fresh server time can be ahead of it.
 */
export function formatRelative(at: number | null, now: number): string {
  if (at === null) return '–';
  const delta = now - at;
  if (delta > -SECOND) return formatAge(Math.max(0, delta));
  return `in ${coarse(-delta)}`;
}

const TICK_STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 300].map((s) => s * SECOND);

/** Time-axis ticks on whole seconds or minutes, at most `max` of them, between `from` and `to`. */
export function timeTicks(from: number, to: number, max = 5): number[] {
  if (!(to > from)) return [from];
  const step = TICK_STEPS_MS.find((s) => (to - from) / s <= max - 1) ?? TICK_STEPS_MS[TICK_STEPS_MS.length - 1] ?? MINUTE;
  const ticks: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push(t);
  return ticks;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** A size in 1024-based units as the config file writes them: `512 B`, `64 KiB`, `1.5 MiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : fixed(value, value < 10 ? 1 : 0)} ${BYTE_UNITS[unit]}`;
}

/** A count with its noun: `1 pod`, `4 pods`, `0 workers`. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** A per-second rate: `0`, `0.3`, `12.5`, `250`, `1.2k`. */
export function formatRate(perSecond: number | null): string {
  if (perSecond === null || !Number.isFinite(perSecond)) return '–';
  if (perSecond === 0) return '0';
  if (perSecond < 10) return fixed(perSecond, 1) === '0' ? '<0.1' : fixed(perSecond, 1);
  if (perSecond < 1000) return String(Math.round(perSecond));
  if (perSecond < 1_000_000) return `${fixed(perSecond / 1000, 1)}k`;
  return `${fixed(perSecond / 1_000_000, 1)}M`;
}

/** A share 0-1 as a percentage: `0 %`, `<0.1 %`, `2.5 %`, `100 %`. */
export function formatPercent(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio)) return '–';
  if (ratio === 0) return '0 %';
  const pct = ratio * 100;
  if (pct < 0.1) return '<0.1 %';
  return `${fixed(pct, pct < 10 ? 1 : 0)} %`;
}

/** A latency in ms, or a dash when there is none. */
export function formatLatency(ms: number | null): string {
  return ms === null ? '–' : formatDuration(ms);
}

/** Wall-clock time of an epoch-ms instant, `14:03:27`, in the browser's time zone. */
export function formatClock(at: number): string {
  const d = new Date(at);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Date and time for the audit log, `2025-03-04 14:03:27`. */
export function formatDateTime(at: number): string {
  const d = new Date(at);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${formatClock(at)}`;
}

/** An event's time: `14:03:27` on the day of `now`, `2025-03-04 14:03:27` before it (the browser's time zone). */
export function formatEventTime(at: number, now: number): string {
  const full = formatDateTime(at);
  return full.slice(0, 10) === formatDateTime(now).slice(0, 10) ? formatClock(at) : full;
}
