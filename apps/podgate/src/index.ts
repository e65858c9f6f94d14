export * from '@podgate/config';
export * from './demo.js';
export * from './podgate.js';
