import { readFile } from 'node:fs/promises';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { RawConfigError, resolveConfigRaw, type ResolvedConfig, type ResolveOptions } from './resolve-config.js';
import { toIssue, type PathSegment } from './resolve-field.js';

/**
 * YAML text → the resolved config. Throws ConfigError for YAML syntax errors (path
 * `<source>:<line>:<col>`) and for every validation issue, each with the line and column of its key
 * when the key is in the text.
 */
export function parseConfig(text: string, source?: string, options: ResolveOptions = {}): ResolvedConfig {
  const lineCounter = new LineCounter();
  // YAML 1.2 core schema (the default): `on`, `yes`, `no` stay strings, unlike YAML 1.1.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((err) => {
        const pos = err.linePos?.[0] ?? lineCounter.linePos(err.pos[0]);
        const message = (err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
        return { path: `${source ?? 'config'}:${pos.line}:${pos.col}`, message, line: pos.line, column: pos.col };
      }),
      source,
    );
  }
  let input: unknown;
  try {
    input = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError([{ path: source ?? 'config', message: err instanceof Error ? err.message : String(err) }], source);
  }
  try {
    return resolveConfigRaw(input, options);
  } catch (err) {
    if (!(err instanceof RawConfigError)) throw err;
    throw new ConfigError(
      err.raw.map((raw) => ({ ...toIssue(raw), ...locate(doc, lineCounter, raw.segments) })),
      source,
    );
  }
}

/** Reads and parses a config file; an unreadable file is a ConfigError naming the path. */
export async function loadConfigFile(path: string, options: ResolveOptions = {}): Promise<ResolvedConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (code ?? String(err));
    throw new ConfigError([{ path, message: `cannot read the config file (${reason})` }], path);
  }
  return parseConfig(text, path, options);
}

/** Line and column of the deepest node on the path that exists in the document. */
function locate(doc: Document, lineCounter: LineCounter, segments: PathSegment[]): Pick<ConfigIssue, 'line' | 'column'> {
  for (let n = segments.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(segments.slice(0, n), true);
    if (isNode(node) && node.range) {
      const pos = lineCounter.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return {};
}
