import { execFile } from 'node:child_process';
import { PICK_BENCH, REPO_ROOT } from './paths.js';

export interface PickRow {
  algorithm: string;
  peers: number;
  nsPerPick: number;
}

export interface PickBench {
  command: string;
  output: string;
  rows: PickRow[];
}

/** The balancer's pick micro-benchmark (packages/balancer/bench/pick-bench.mjs), its output kept whole. */
export function runPickBench(): Promise<PickBench> {
  const command = `node ${PICK_BENCH.replace(REPO_ROOT, '')}`;
  return new Promise((resolve, reject) => {
    // Bounded: a fixed number of picks per case; this only catches a hang.
    execFile(process.execPath, [PICK_BENCH], { cwd: REPO_ROOT, timeout: 180_000 }, (err, stdout, stderr) => {
      if (err !== null) {
        reject(new Error(`${command} failed: ${err.message}\n${stderr}`));
        return;
      }
      resolve({ command, output: stdout.trimEnd(), rows: parsePickTable(stdout) });
    });
  });
}

/** Rows of console.table's box drawing: │ 0 │ 'round_robin' │ 4 │ '17.1' │ */
export function parsePickTable(output: string): PickRow[] {
  const rows: PickRow[] = [];
  for (const line of output.split('\n')) {
    const cells = line
      .split('│')
      .map((c) => c.trim().replace(/^'|'$/g, ''))
      .filter((c) => c !== '');
    if (cells.length !== 4 || !/^\d+$/.test(cells[0] ?? '')) continue;
    rows.push({ algorithm: cells[1] ?? '', peers: Number(cells[2]), nsPerPick: Number(cells[3]) });
  }
  return rows;
}
