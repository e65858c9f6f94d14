export * from './config.js';
export * from './failure-class.js';
export * from './peer-state.js';
export * from './peer-event.js';
export * from './api.js';
