import { checkServiceName, type PodgateConfig, type ServiceConfig } from '@podgate/protocol';
import { isConfigError, serviceDefaultsOf, serviceFromInput, type ConfigIssue } from '@podgate/config';
import { ControlError } from './control-api.js';

/**
 * API-added services are checked by the config file's rules, and the keys they leave out come from
 * `config`'s `defaults:` section (the built-in defaults for a config without one), as for a
 * service in the file. The first issue names the field.
 */
export function parseService(input: unknown, config?: PodgateConfig): ServiceConfig {
  const { name, ...rest } = (input ?? {}) as { name?: unknown };
  const named = typeof name === 'string' ? checkServiceName(name) : { error: 'must be a string' };
  if ('error' in named) throw new ControlError('PODGATE_INVALID', `body.name: ${named.error}`, 'body.name');
  try {
    return serviceFromInput(named.value, rest, 'body', serviceDefaultsOf(config));
  } catch (err) {
    if (isConfigError(err)) {
      const first = err.issues[0] as ConfigIssue;
      throw new ControlError('PODGATE_INVALID', err.message, first.path);
    }
    throw err;
  }
}
