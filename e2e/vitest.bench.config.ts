import { defineConfig } from 'vitest/config';
import baseConfig from './vitest.config.ts';

// `pnpm bench`'s rollout rows: measurements, run apart from `pnpm test`. Not mergeConfig: it would
// append this include to the tests' own.
export default defineConfig({ ...baseConfig, test: { ...baseConfig.test, include: ['bench/**/*.bench-run.ts'] } });
