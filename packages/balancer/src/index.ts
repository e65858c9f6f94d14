export * from './least-request.js';
export * from './peer.js';
export * from './peer-table.js';
export type * from './peer-table-options.js';
export type * from './picker.js';
export * from './smooth-round-robin.js';
