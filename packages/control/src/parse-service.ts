import type { PodgateConfig, ServiceConfig } from '@podgate/protocol';
import { isConfigError, isServiceName, serviceDefaultsOf, serviceFromInput, type ConfigIssue } from '@podgate/config';
import { ControlError } from './control-api.js';

/**
 * API-added services are checked by the config file's rules, and the keys they leave out come from
 * `config`'s `defaults:` section (the built-in defaults for a config without one), as for a
 * service in the file. The first issue names the field.
 */
export function parseService(input: unknown, config?: PodgateConfig): ServiceConfig {
  const { name, ...rest } = (input ?? {}) as { name?: unknown };
  if (typeof name !== 'string' || !isServiceName(name)) {
    throw new ControlError('PODGATE_INVALID', "body.name: service name must be an RFC 1123 label (a-z, 0-9, '-', ≤ 63 chars)", 'body.name');
  }
  try {
    return serviceFromInput(String(name), rest, 'body', serviceDefaultsOf(config));
  } catch (err) {
    if (isConfigError(err)) {
      const first = err.issues[0] as ConfigIssue;
      throw new ControlError('PODGATE_INVALID', err.message, first.path);
    }
    throw err;
  }
}
