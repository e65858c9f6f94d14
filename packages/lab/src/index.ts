export * from './dns-server.js';
export * from './pod.js';
export * from './cluster.js';
export * from './load-generator.js';
export * from './test-config.js';
export * from './redis-server.js';
