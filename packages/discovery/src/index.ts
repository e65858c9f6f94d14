export * from './dns-refresher.js';
export * from './discovery-error.js';
export { sortAddresses, sameAddresses } from './address-order.js';
