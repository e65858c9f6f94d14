import { isConfigError, type ConfigError } from '@podgate/config';

/** The ConfigError `fn` throws (any other error is thrown on; none fails the test). */
export function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (isConfigError(err)) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}
