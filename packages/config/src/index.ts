export { ConfigError, isConfigError, type ConfigIssue } from './config-error.js';
export { loadConfigFile, parseConfig } from './parse-config.js';
export { builtinServiceDefaults, adminListenIssue, resolveConfig, serviceDefaultsOf, serviceFromInput, type ServiceDefaults } from './resolve-config.js';
export { configDocs } from './config-docs.js';
export { formatDuration, formatSize, parseDuration, parseSize } from './units.js';
export { isLoopbackHost } from './addresses.js';
