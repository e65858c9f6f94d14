import type { FieldSpec, ObjectSpec, Resolved } from '@podgate/protocol';
import type { ConfigIssue } from './config-error.js';
import { STRING_CHECKS } from './string-formats.js';
import { parseDuration, parseSize } from './units.js';

export type PathSegment = string | number;

/** Issues as they are collected: the path kept as segments, so a YAML node can be found for each. */
export interface RawIssue {
  segments: PathSegment[];
  message: string;
}

export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const seg of segments) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

export function toIssue(raw: RawIssue): ConfigIssue {
  return { path: formatPath(raw.segments), message: raw.message };
}

/** How a bad value is shown in a message: strings quoted, containers by kind. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The resolved key of a field (`timeout` → `timeoutMs`). */
export function outKey(key: string, spec: FieldSpec): string {
  return spec.out ?? key;
}

/** A resolved object keyed by output keys, from which missing input keys take their value. */
type Base = unknown;

/**
 * Validates `input` against `spec` and returns the resolved value: defaults filled, durations in ms,
 * sizes in bytes. An absent (undefined or null) input takes `base` (the value under `defaults`, for a
 * service's policy keys) or else the spec's default. Issues are pushed, never thrown, so that every
 * problem in a file is reported at once; the value returned for a bad key is the default.
 */
export function resolveField(spec: FieldSpec, input: unknown, path: PathSegment[], issues: RawIssue[], base?: Base): unknown {
  const fail = (message: string): unknown => {
    issues.push({ segments: path, message });
    return base !== undefined ? structuredClone(base) : defaultOf(spec);
  };
  if (input === undefined || input === null) {
    if (spec.kind === 'object') return resolveObject(spec, {}, path, issues, base);
    // A copy: services must not share (and so mutate) one another's lists.
    if (base !== undefined) return structuredClone(base);
    if (spec.required) {
      issues.push({ segments: path, message: 'required' });
      return undefined;
    }
    return defaultOf(spec);
  }
  switch (spec.kind) {
    case 'duration': {
      const ms = typeof input === 'number' ? input : typeof input === 'string' ? parseDuration(input) : undefined;
      if (typeof input === 'string' && ms === undefined) {
        return fail(`${describe(input)} is not a duration (use 500ms, 2s, 1m)`);
      }
      if (ms === undefined || !Number.isFinite(ms)) return fail(`must be a duration (500ms, 2s, 1m), got ${describe(input)}`);
      if (ms < 0 || (ms === 0 && !spec.allowZero)) return fail(spec.allowZero ? 'must not be negative' : 'must be positive');
      return Math.round(ms);
    }
    case 'size': {
      const bytes = typeof input === 'number' ? input : typeof input === 'string' ? parseSize(input) : undefined;
      if (typeof input === 'string' && bytes === undefined) {
        return fail(`${describe(input)} is not a size (use 65536, 64KiB, 1MiB, 10MB)`);
      }
      if (bytes === undefined || !Number.isInteger(bytes)) return fail(`must be a size (65536, 64KiB, 1MiB, 10MB), got ${describe(input)}`);
      const min = spec.min ?? 0;
      if (bytes < min) return fail(`must be at least ${min} bytes`);
      return bytes;
    }
    case 'integer':
    case 'number': {
      if (typeof input !== 'number' || !Number.isFinite(input)) return fail(`must be a number, got ${describe(input)}`);
      if (spec.kind === 'integer' && !Number.isInteger(input)) return fail(`must be a whole number, got ${input}`);
      if (input < spec.min || input > spec.max) return fail(rangePhrase(spec.min, spec.max));
      return input;
    }
    case 'boolean':
      return typeof input === 'boolean' ? input : fail(`must be true or false, got ${describe(input)}`);
    case 'enum':
      if (typeof input === 'string' && spec.values.includes(input)) return input;
      return fail(`must be one of ${spec.values.join(', ')} (got ${describe(input)})`);
    case 'string': {
      const text = spec.acceptNumber === true && typeof input === 'number' ? String(input) : input;
      if (typeof text !== 'string') return fail(`must be a string, got ${describe(input)}`);
      const checked = STRING_CHECKS[spec.format](text);
      return 'error' in checked ? fail(checked.error) : checked.value;
    }
    case 'list': {
      if (!Array.isArray(input)) return fail(`must be a list, got ${describe(input)}`);
      if (spec.nonEmpty && input.length === 0) return fail('must not be empty');
      if (spec.maxItems !== undefined && input.length > spec.maxItems) return fail(`must have at most ${spec.maxItems} items`);
      const out: unknown[] = [];
      input.forEach((item: unknown, i) => {
        if (item === undefined || item === null) {
          issues.push({ segments: [...path, i], message: 'must not be empty' });
          return;
        }
        const value = resolveField(spec.item, item, [...path, i], issues);
        if (value !== undefined && !(spec.unique && out.includes(value))) out.push(value);
      });
      return out;
    }
    case 'object':
      if (!isPlainObject(input)) return fail(`must be a mapping, got ${describe(input)}`);
      return resolveObject(spec, input, path, issues, base);
  }
}

/**
 * resolveObject, typed by the spec it walks. The one place where the walk meets the type derived
 * from the same spec: TypeScript cannot follow a loop over a spec's keys, so the result is asserted
 * here, and the config tests compare whole resolved configs with values of the derived types.
 */
export function resolveSpec<S extends ObjectSpec>(spec: S, input: Record<string, unknown>, path: PathSegment[], issues: RawIssue[], base?: Base): Resolved<S> {
  return resolveObject(spec, input, path, issues, base) as Resolved<S>;
}

export function resolveObject(spec: ObjectSpec, input: Record<string, unknown>, path: PathSegment[], issues: RawIssue[], base?: Base): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const baseObject = isPlainObject(base) ? base : undefined;
  for (const [key, field] of Object.entries(spec.fields)) {
    const value = resolveField(field, input[key], [...path, key], issues, baseObject?.[outKey(key, field)]);
    if (value !== undefined) out[outKey(key, field)] = value;
  }
  for (const key of Object.keys(input)) {
    if (Object.hasOwn(spec.fields, key)) continue;
    const hint = suggestKey(key, Object.keys(spec.fields));
    issues.push({ segments: [...path, key], message: hint ? `unknown key (did you mean ${hint}?)` : 'unknown key' });
  }
  return out;
}

function rangePhrase(min: number, max: number): string {
  return `must be ${min}-${max}`;
}

/** The spec's default in resolved form (the YAML form of string and list defaults is resolved once). */
export function defaultOf(spec: FieldSpec): unknown {
  switch (spec.kind) {
    case 'string': {
      if (spec.default === undefined) return undefined;
      const checked = STRING_CHECKS[spec.format](spec.default);
      if ('error' in checked) throw new Error(`schema default ${spec.default} is invalid: ${checked.error}`);
      return checked.value;
    }
    case 'list':
      return spec.default?.map((item) => resolveField(spec.item, item, [], []));
    case 'object':
      return resolveObject(spec, {}, [], []);
    default:
      return spec.default;
  }
}

/** The closest known key, for typos (`retyr` → `retry`, `dns_name` → `dnsName`). */
function suggestKey(key: string, known: string[]): string | undefined {
  const squash = (k: string): string => k.toLowerCase().replace(/[-_]/g, '');
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = squash(candidate) === squash(key) ? 0 : editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(key.length / 3)) ? best : undefined;
}

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions (`retyr` → `retry` is 1). */
function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const up = d[i - 1] ?? [];
      let best = Math.min((up[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (up[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, (d[i - 2]?.[j - 2] ?? 0) + 1);
      row.push(best);
    }
    d.push(row);
  }
  return d[a.length]?.[b.length] ?? 0;
}
