import { describe, expect, it } from 'vitest';
import { formatAge, formatBytes, formatDuration, formatEventTime, formatPercent, formatRate, formatRelative, timeTicks } from '../src/lib/format.js';

describe('formatDuration', () => {
  it('writes sub-second durations in whole milliseconds', () => {
    expect(formatDuration(350)).toBe('350 ms');
    expect(formatDuration(999.6)).toBe('1000 ms');
  });
  it('keeps one decimal under 10 ms, without a trailing .0', () => {
    expect(formatDuration(4.25)).toBe('4.3 ms');
    expect(formatDuration(2)).toBe('2 ms');
    expect(formatDuration(0)).toBe('0 ms');
  });
  it('writes seconds with one decimal under 10 s', () => {
    expect(formatDuration(1200)).toBe('1.2 s');
    expect(formatDuration(1000)).toBe('1 s');
    expect(formatDuration(42_400)).toBe('42 s');
  });
  it('writes minutes and hours in two units', () => {
    expect(formatDuration(125_000)).toBe('2 m 5 s');
    expect(formatDuration(5 * 60_000)).toBe('5 m');
    expect(formatDuration(80 * 60_000)).toBe('1 h 20 m');
    expect(formatDuration(26 * 3_600_000)).toBe('1 d 2 h');
  });
  it('writes a dash for a value that is not a number', () => {
    expect(formatDuration(Number.NaN)).toBe('–');
  });
});

describe('formatAge', () => {
  it('names the largest whole unit', () => {
    expect(formatAge(12_500)).toBe('12 s ago');
    expect(formatAge(3 * 60_000 + 59_000)).toBe('3 m ago');
    expect(formatAge(2 * 3_600_000)).toBe('2 h ago');
    expect(formatAge(3 * 86_400_000)).toBe('3 d ago');
  });
  it('says just now under a second', () => {
    expect(formatAge(400)).toBe('just now');
  });
});

describe('formatRelative', () => {
  it('reads past times as ages and future ones as "in"', () => {
    expect(formatRelative(10_000, 190_000)).toBe('3 m ago');
    expect(formatRelative(40_000, 10_000)).toBe('in 30 s');
    expect(formatRelative(null, 10_000)).toBe('–');
  });
  it('says just now for a time less than a second ahead (the page clock ticks once a second)', () => {
    expect(formatRelative(10_400, 10_000)).toBe('just now');
  });
});

describe('timeTicks', () => {
  it('puts at most five ticks on whole seconds or minutes', () => {
    expect(timeTicks(1_200, 4_900)).toEqual([2_000, 3_000, 4_000]);
    expect(timeTicks(0, 300_000)).toEqual([0, 120_000, 240_000]);
    expect(timeTicks(5_000, 5_000)).toEqual([5_000]);
  });
});

describe('formatBytes', () => {
  it('uses 1024-based units as the config file does', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(64 * 1024)).toBe('64 KiB');
    expect(formatBytes(1024 * 1024)).toBe('1 MiB');
    expect(formatBytes(1.5 * 1024 * 1024)).toBe('1.5 MiB');
    expect(formatBytes(10 * 1024 ** 3)).toBe('10 GiB');
  });
  it('refuses negative sizes with a dash', () => {
    expect(formatBytes(-1)).toBe('–');
  });
});

describe('formatRate and formatPercent', () => {
  it('shortens rates', () => {
    expect(formatRate(0)).toBe('0');
    expect(formatRate(0.04)).toBe('<0.1');
    expect(formatRate(12.46)).toBe('12');
    expect(formatRate(3.25)).toBe('3.3');
    expect(formatRate(1234)).toBe('1.2k');
    expect(formatRate(null)).toBe('–');
  });
  it('writes shares as percentages', () => {
    expect(formatPercent(0)).toBe('0 %');
    expect(formatPercent(0.0004)).toBe('<0.1 %');
    expect(formatPercent(0.025)).toBe('2.5 %');
    expect(formatPercent(1)).toBe('100 %');
  });
});

describe('formatEventTime', () => {
  it("writes today's events by the clock and earlier ones with their date", () => {
    const now = new Date(2025, 2, 4, 18, 0, 0).getTime();
    expect(formatEventTime(new Date(2025, 2, 4, 14, 3, 27).getTime(), now)).toBe('14:03:27');
    expect(formatEventTime(new Date(2025, 2, 3, 23, 59, 59).getTime(), now)).toBe('2025-03-03 23:59:59');
  });
});
