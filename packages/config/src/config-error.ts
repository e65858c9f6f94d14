/** One problem found in a config: the dotted key path and the reason in a short phrase. */
export interface ConfigIssue {
  path: string;
  message: string;
  /** 1-based position in the YAML text, when the config came from one and the key exists there. */
  line?: number;
  column?: number;
}

/** Natural order, so `routes[2]` sorts before `routes[10]`. */
export function compareIssues(a: ConfigIssue, b: ConfigIssue): number {
  return a.path.localeCompare(b.path, 'en', { numeric: true });
}

/**
 * A config that cannot be used. Carries every issue found, sorted by path; the message is one line per
 * issue (`services.image-lobby.port: must be 1-65535`), ready to print without a stack trace.
 * Callers branch on `err.code`, not on `instanceof`.
 */
export class ConfigError extends Error {
  readonly code = 'PODGATE_CONFIG_INVALID';
  readonly issues: ConfigIssue[];
  /** The file (or other origin) the config came from, if known. */
  readonly source: string | undefined;

  constructor(issues: ConfigIssue[], source?: string) {
    const sorted = [...issues].sort(compareIssues);
    super(sorted.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('\n'));
    this.name = 'ConfigError';
    this.issues = sorted;
    this.source = source;
  }
}

export function isConfigError(err: unknown): err is ConfigError {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'PODGATE_CONFIG_INVALID';
}
