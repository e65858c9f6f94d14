export * from './config/index.js';
export * from './demo.js';
export * from './podgate.js';
