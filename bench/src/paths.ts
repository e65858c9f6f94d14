import { fileURLToPath } from 'node:url';

/** The repository root: bench/dist/paths.js → ../../ */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Compiled entry points of the bench's own child processes, next to this file. */
export const distFile = (name: string): string => fileURLToPath(new URL(`./${name}`, import.meta.url));
export const PODGATE_CLI = fileURLToPath(new URL('../../apps/podgate/dist/cli.js', import.meta.url));
export const PICK_BENCH = fileURLToPath(new URL('../../packages/balancer/bench/pick-bench.mjs', import.meta.url));
export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));
