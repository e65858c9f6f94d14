// Pick cost at growing peer counts. Run: pnpm --filter @podgate/balancer bench
// Bounded: a fixed number of picks per case.
import os from 'node:os';
import { PeerTable } from '../dist/index.js';

const PICKS = 2_000_000;
const sizes = [4, 100, 1_000, 10_000];
const rows = [];
for (const algorithm of ['round_robin', 'least_request']) {
  for (const n of sizes) {
    const table = new PeerTable({ service: 'bench', algorithm, consecutive5xx: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectedPercent: 50 });
    const addresses = Array.from({ length: n }, (_, i) => `127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8080`);
    table.setAddresses(addresses, 0);
    // One peer ejected so the eligible set is not the whole table.
    table.reportFailure(table.list()[0], 'connect_refused', 0, 'bench');
    for (let i = 0; i < 100_000; i++) table.pick(1); // warm-up
    const t0 = process.hrtime.bigint();
    let sink = 0;
    for (let i = 0; i < PICKS; i++) sink += table.pick(1).port;
    const ns = Number(process.hrtime.bigint() - t0) / PICKS;
    rows.push({ algorithm, peers: n, 'ns/pick': ns.toFixed(1), sink: sink > 0 });
  }
}
console.log(`pick micro-benchmark: node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}`);
console.table(rows.map(({ sink: _s, ...r }) => r));
