import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (dir: string): string => fileURLToPath(new URL(`./${dir}/src/index.ts`, import.meta.url));

// Tests run against the TypeScript sources of sibling packages, so no build is needed first.
export const sharedConfig = defineConfig({
  resolve: {
    alias: {
      '@podgate/balancer': src('packages/balancer'),
      '@podgate/discovery': src('packages/discovery'),
      '@podgate/lab': src('packages/lab'),
      '@podgate/protocol': src('packages/protocol'),
      '@podgate/proxy': src('packages/proxy'),
      '@podgate/control': src('packages/control'),
      '@podgate/config': src('packages/config'),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
  },
});
