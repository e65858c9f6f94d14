import { mergeConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';
import { sharedConfig } from '../vitest.shared.ts';

export default mergeConfig(sharedConfig, {
  resolve: {
    alias: {
      // The subpath first: aliases match by prefix, in order.
      '@podgate/podgate/node-flags': fileURLToPath(new URL('../apps/podgate/src/node-flags.ts', import.meta.url)),
      '@podgate/podgate': fileURLToPath(new URL('../apps/podgate/src/index.ts', import.meta.url)),
    },
  },
  // test/: podgate and the lab; browser/: the dashboard in Debian's Chromium against them (`vitest run browser`).
  test: { include: ['test/**/*.test.ts', 'browser/**/*.test.ts'], testTimeout: 240_000, hookTimeout: 60_000, fileParallelism: false },
});
