export * from '@podgate/config';
export * from './podgate.js';
