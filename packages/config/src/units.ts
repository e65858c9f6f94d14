// Durations and sizes as operators write them. Plain numbers are milliseconds / bytes.

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_RE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const DURATION_PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** `500ms`, `2s`, `1.5s`, `1m`, `1m30s`, `2h` → milliseconds (rounded); undefined if not a duration. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_RE.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(DURATION_PART_RE)) ms += Number(m[1]) * (DURATION_UNITS[m[2] ?? ''] ?? 0);
  return Math.round(ms);
}

/** Milliseconds → a short exact form: `500ms`, `2s`, `60s`, `5m`, `1h` (minutes from 2 m up, as people write timeouts). */
export function formatDuration(ms: number): string {
  if (ms !== 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 120_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms !== 0 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};
const SIZE_RE = /^(\d+(?:\.\d+)?)([kmg]i?b|b)$/i;

/** `512B`, `64KiB`, `1MiB`, `10MB` (SI: 1000-based; `Ki`/`Mi`/`Gi`: 1024-based) → bytes; undefined if not a size. */
export function parseSize(text: string): number | undefined {
  const m = SIZE_RE.exec(text);
  if (!m) return undefined;
  const bytes = Number(m[1]) * (SIZE_UNITS[(m[2] ?? '').toLowerCase()] ?? Number.NaN);
  return Number.isFinite(bytes) ? Math.round(bytes) : undefined;
}

/** Bytes → the shortest exact binary form (`16KiB`, `1MiB`) or plain bytes. */
export function formatSize(bytes: number): string {
  if (bytes !== 0 && bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3}GiB`;
  if (bytes !== 0 && bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2}MiB`;
  if (bytes !== 0 && bytes % 1024 === 0) return `${bytes / 1024}KiB`;
  return `${bytes}B`;
}
