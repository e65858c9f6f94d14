import type { PeerEvent } from '@podgate/protocol';
import { PeerTable, type PeerTableOptions } from '../src/index.js';

export function makeTable(overrides: Partial<PeerTableOptions> = {}): { table: PeerTable; events: PeerEvent[] } {
  const events: PeerEvent[] = [];
  const table = new PeerTable({
    service: 'svc',
    algorithm: 'round_robin',
    consecutive5xx: 3,
    baseEjectionMs: 1000,
    maxEjectionMs: 5000,
    maxEjectedPercent: 50,
    onEvent: (e) => events.push(e),
    ...overrides,
  });
  return { table, events };
}

export const addrs = (n: number): string[] => Array.from({ length: n }, (_, i) => `127.0.0.${i + 1}:80`);

export function sequence(table: PeerTable, count: number, now = 0): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(table.pick(now)?.address ?? 'none');
  return out;
}
