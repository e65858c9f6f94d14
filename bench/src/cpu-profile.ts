/*
 * Self time by function from a V8 .cpuprofile (what `node --cpu-prof` writes): the sampled stack
 * tops, summed per function and per place in the code, without a browser's DevTools.
 */

export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    hitCount?: number;
    children?: number[];
  }>;
  startTime: number;
  endTime: number;
  samples?: number[];
  /** Microseconds since the previous sample. */
  timeDeltas?: number[];
}

export interface SelfTimeRow {
  functionName: string;
  /** Repository-relative file or package path, and line. */
  location: string;
  category: string;
  selfMs: number;
  /** Share of the busy time (samples that were not idle), 0-1. */
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  busyMs: number;
  top: SelfTimeRow[];
  byCategory: Array<{ category: string; selfMs: number; share: number }>;
}

const META_FRAMES = new Set(['(program)', '(garbage collector)', '(idle)', '(root)']);

/** Where a frame's code comes from: podgate's own packages, a dependency, Node's internals or V8. */
export function categorise(url: string, functionName: string): string {
  if (url === '') return META_FRAMES.has(functionName) ? functionName : 'native (V8 / C++)';
  if (url.startsWith('node:')) return 'node internals';
  const dep = /node_modules\/(?!\.pnpm)(@[^/]+\/[^/]+|[^/]+)\//.exec(url);
  if (dep !== null) return dep[1] ?? 'dependency';
  const own = /\/(packages|apps)\/([^/]+)\//.exec(url);
  if (own !== null) return `podgate ${own[2]}`;
  return 'other';
}

/** A short place for a frame: `packages/proxy/dist/proxy-request.js:120`, `undici/lib/…:50`, `node:internal/…:10`. */
export function shortLocation(url: string, lineNumber: number): string {
  if (url === '') return '';
  let path = url.replace(/^file:\/\//, '');
  const dep = path.lastIndexOf('/node_modules/');
  if (dep >= 0) path = path.slice(dep + '/node_modules/'.length);
  else {
    const own = /\/((?:packages|apps|bench)\/.*)$/.exec(path);
    if (own !== null) path = own[1] ?? path;
  }
  return `${path}:${lineNumber + 1}`;
}

/**
 * Self time per function. `window` (µs after the profile's start) keeps only the samples taken
 * in it, e.g. the load run without podgate's start-up and shutdown.
 */
export function summariseProfile(profile: CpuProfile, topN = 15, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (samples.length > 0 && deltas.length === samples.length) {
    const mean = (profile.endTime - profile.startTime) / samples.length;
    let at = 0;
    // Sample i stands for the time until sample i + 1 (as Chrome DevTools counts it).
    for (let i = 0; i < samples.length; i++) {
      at += deltas[i] ?? 0;
      if (window !== undefined && (at < window.fromUs || at > window.toUs)) continue;
      const id = samples[i] ?? 0;
      const next = deltas[i + 1];
      selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, next ?? mean));
    }
  } else {
    const totalHits = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
    const per = totalHits > 0 ? (profile.endTime - profile.startTime) / totalHits : 0;
    for (const n of profile.nodes) selfUs.set(n.id, (n.hitCount ?? 0) * per);
  }

  const byFunction = new Map<string, { functionName: string; location: string; category: string; us: number }>();
  const byCategory = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) continue;
    totalUs += us;
    const functionName = frame.functionName === '' ? '(anonymous)' : frame.functionName;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const location = shortLocation(frame.url, frame.lineNumber);
    const category = categorise(frame.url, functionName);
    const key = `${functionName}\u0000${location}`;
    const entry = byFunction.get(key) ?? { functionName, location, category, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
    byCategory.set(category, (byCategory.get(category) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const share = (us: number): number => (busyUs > 0 ? us / busyUs : 0);
  return {
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    busyMs: busyUs / 1000,
    top: [...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((e) => ({ functionName: e.functionName, location: e.location, category: e.category, selfMs: e.us / 1000, share: share(e.us) })),
    byCategory: [...byCategory.entries()].sort((a, b) => b[1] - a[1]).map(([category, us]) => ({ category, selfMs: us / 1000, share: share(us) })),
  };
}

export function formatProfileMarkdown(summary: ProfileSummary, title: string): string {
  const lines = [
    `# ${title}`,
    '',
    `Sampled ${(summary.totalMs / 1000).toFixed(1)} s: busy ${(summary.busyMs / 1000).toFixed(1)} s, idle ${(summary.idleMs / 1000).toFixed(1)} s. Shares are of the busy time.`,
    '',
    `## Top ${summary.top.length} functions by self time`,
    '',
    '| # | function | where | from | self ms | share |',
    '|---:|---|---|---|---:|---:|',
    ...summary.top.map(
      (r, i) =>
        `| ${i + 1} | \`${r.functionName}\` | ${r.location === '' ? '' : `\`${r.location}\``} | ${r.category} | ${r.selfMs.toFixed(0)} | ${(r.share * 100).toFixed(1)} % |`,
    ),
    '',
    '## Self time by origin',
    '',
    '| from | self ms | share |',
    '|---|---:|---:|',
    ...summary.byCategory.map((c) => `| ${c.category} | ${c.selfMs.toFixed(0)} | ${(c.share * 100).toFixed(1)} % |`),
    '',
  ];
  return lines.join('\n');
}
