import { describe, expect, it } from 'vitest';
import { categorise, summariseProfile, type CpuProfile } from '../src/cpu-profile.js';

const frame = (functionName: string, url = '', lineNumber = 0): CpuProfile['nodes'][number]['callFrame'] => ({
  functionName,
  url,
  lineNumber,
  columnNumber: 0,
});

// root → idle, root → handle (podgate) → writev (native); samples every 1000 µs.
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 3] },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('handle', 'file:///repo/packages/proxy/dist/proxy-request.js', 9), children: [4] },
    { id: 4, callFrame: frame('writev') },
  ],
  startTime: 0,
  endTime: 6000,
  samples: [2, 3, 4, 4, 4, 2],
  timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000],
};

describe('cpu profile summary', () => {
  it('sums self time per function and leaves idle out of the shares', () => {
    const s = summariseProfile(profile);
    expect(s.idleMs).toBe(2);
    expect(s.busyMs).toBe(4);
    expect(s.top[0]).toMatchObject({ functionName: 'writev', selfMs: 3, share: 0.75, category: 'native (V8 / C++)' });
    expect(s.top[1]).toMatchObject({ functionName: 'handle', location: 'packages/proxy/dist/proxy-request.js:10', category: 'podgate proxy' });
  });

  it('keeps only the samples inside the window', () => {
    const s = summariseProfile(profile, 15, { fromUs: 2500, toUs: 4500 });
    expect(s.busyMs).toBe(2);
    expect(s.top.map((r) => r.functionName)).toEqual(['writev']);
  });

  it("names a dependency by its package, through pnpm's store path", () => {
    expect(categorise('file:///repo/node_modules/.pnpm/undici@7.16.0/node_modules/undici/lib/dispatcher/client.js', '_resume')).toBe('undici');
    expect(categorise('node:internal/stream_base_commons', 'writevGeneric')).toBe('node internals');
  });
});
