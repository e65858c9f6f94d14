import react from '@vitejs/plugin-react';
import { defineConfig, loadEnv } from 'vite';

// The protocol package is read from its TypeScript sources, so the dashboard builds without
// building it first (the same way the workspace's tests resolve it).
const protocolSource = new URL('../../packages/protocol/src/index.ts', import.meta.url).pathname;

export default defineConfig(({ mode }) => {
  // `pnpm dev` proxies to a running podgate; PODGATE_ADMIN_URL points it at another admin address.
  const env = loadEnv(mode, new URL('.', import.meta.url).pathname, 'PODGATE_');
  const admin = env['PODGATE_ADMIN_URL'] ?? 'http://127.0.0.1:9901';
  return {
    // Relative asset URLs: the admin server serves index.html at / and the assets beside it.
    base: './',
    plugins: [react()],
    resolve: { alias: { '@podgate/protocol': protocolSource } },
    // No source maps: the admin server serves everything in dist/, and a 3.8 MB map of the sources is
    // nothing an operator's browser needs. The chunk size warning stays at Vite's default (500 kB).
    build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
    server: {
      proxy: {
        '/api': {
          target: admin,
          ws: true,
          // The live feed takes browsers from the admin address only (same Host and Origin): the
          // proxied request must look as if the page came from there.
          changeOrigin: true,
          configure: (proxy) => {
            proxy.on('proxyReqWs', (proxyReq) => proxyReq.setHeader('origin', admin));
          },
        },
        '/metrics': { target: admin, changeOrigin: true },
        '/healthz': { target: admin, changeOrigin: true },
      },
    },
  };
});
