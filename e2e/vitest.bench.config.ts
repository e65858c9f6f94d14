import { mergeConfig } from 'vitest/config';
import baseConfig from './vitest.config.ts';

// `pnpm bench`'s rollout rows: measurements, run apart from `pnpm test`.
export default mergeConfig(baseConfig, { test: { include: ['bench/**/*.bench-run.ts'] } });
