export * from './client-error.js';
export * from './failure.js';
export * from './hop-by-hop.js';
export * from './proxy-server.js';
export * from './router.js';
export * from './service-runtime.js';
