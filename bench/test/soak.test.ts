import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseOptions, UsageError } from '../src/options.js';
import { readPodgateLog, rolloutOffsets, soakPlan } from '../src/soak.js';

describe('soak options', () => {
  it('--soak runs only the soak: 10 minutes measured, 50 s with --quick, or --soak-duration', () => {
    expect(parseOptions(['--soak'])).toMatchObject({ soakOnly: true, soakS: 600 });
    expect(parseOptions(['--soak', '--quick'])).toMatchObject({ soakOnly: true, soakS: 50 });
    expect(parseOptions(['--', '--soak', '--soak-duration=180'])).toMatchObject({ soakOnly: true, soakS: 180 });
  });

  it('a full run includes the soak last unless --skip=soak', () => {
    expect(parseOptions([])?.extras).toContain('soak');
    expect(parseOptions(['--skip=soak'])?.extras).not.toContain('soak');
  });

  it('refuses a bad duration and --soak with --profile', () => {
    expect(() => parseOptions(['--soak', '--soak-duration=19'])).toThrow(UsageError);
    expect(() => parseOptions(['--soak', '--soak-duration=1.5'])).toThrow(UsageError);
    expect(() => parseOptions(['--soak', '--profile'])).toThrow(UsageError);
  });
});

describe('soak plan', () => {
  it.each([20, 50, 180, 600])('every rolling update of a %i s soak ends before its end sample', (d) => {
    const p = soakPlan(d <= 50, d);
    const starts = rolloutOffsets(p);
    expect(starts.length).toBeGreaterThanOrEqual(d < 50 ? 1 : 2);
    for (const at of starts) expect(at + 10 + p.graceMs / 1000).toBeLessThanOrEqual(p.durationS);
    if (d === 600) expect(starts.length).toBe(10);
  });
});

describe("podgate's log", () => {
  it('counts warnings and errors by kind, and keeps the error lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'soak-log-'));
    try {
      const file = join(dir, 'podgate.log');
      writeFileSync(
        file,
        [
          JSON.stringify({ level: 40, type: 'peer_ejected', reason: 'operator_eject', msg: 'x' }),
          JSON.stringify({ level: 40, type: 'peer_ejected', reason: 'operator_eject', msg: 'x' }),
          JSON.stringify({ level: 40, cause: 'connect_refused', msg: 'y' }),
          JSON.stringify({ level: 30, msg: 'info, not counted' }),
          JSON.stringify({ level: 50, msg: 'boom' }),
          '(node:1) Warning: something on stderr',
          '',
        ].join('\n'),
      );
      const log = readPodgateLog(file);
      expect(log.warnings).toBe(3);
      expect(log.errors).toBe(2);
      expect(log.byKind).toEqual({
        'warn peer_ejected operator_eject': 2,
        'warn request try failed: connect_refused': 1,
        'error boom': 1,
        'error (node:1) Warning: something on stderr': 1,
      });
      expect(log.firstErrors).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
