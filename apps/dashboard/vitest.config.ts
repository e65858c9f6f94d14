import { defineConfig } from 'vitest/config';

const protocolSource = new URL('../../packages/protocol/src/index.ts', import.meta.url).pathname;

// Logic lives in plain TypeScript modules, so the tests need no DOM.
export default defineConfig({
  resolve: { alias: { '@podgate/protocol': protocolSource } },
  test: { include: ['test/**/*.test.ts'], environment: 'node' },
});
