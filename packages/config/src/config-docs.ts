import { policySpec, rootSpec, serviceOwnFields, type FieldSpec, type ObjectSpec } from '@podgate/protocol';
import { formatDuration, formatSize } from './units.js';

const HEADER = `<!-- Generated from packages/protocol/src/config-schema.ts by configDocs(). Do not edit by hand:
     run packages/config/scripts/gen-config-docs.sh after changing the schema. -->

# Configuration

\`podgate --config podgate.yaml\` reads one YAML file (YAML 1.2: \`on\`, \`yes\` and \`no\` are plain
strings). A commented example is [podgate.example.yaml](../podgate.example.yaml).

- Keys are camelCase. An unknown key is an error, so a typo never falls back to a default silently.
- **Durations** are a number of milliseconds or a string with a unit: \`500ms\`, \`2s\`, \`1.5s\`, \`1m\`,
  \`1m30s\`, \`1h\`. They must be positive unless noted.
- **Sizes** are a number of bytes or a string with a unit: \`512B\`, \`64KiB\`, \`1MiB\`, \`1GiB\` (1024-based)
  or \`10KB\`, \`10MB\`, \`1GB\` (1000-based).
- A key left empty (\`~\` or nothing after the colon) takes its default.
- Every problem in a file is reported at once, one line each, as \`dotted.key.path: reason\`,
  sorted by path; the process exits without starting.
`;

/** docs/config.md, rendered from the schema: every key, its type, default and meaning. */
export function configDocs(): string {
  const parts = [HEADER];
  for (const [key, field] of Object.entries(rootSpec.fields)) {
    if (key === 'defaults') continue;
    parts.push(section(key, field));
  }
  parts.push(
    section('defaults', policySpec, [
      'Applied to every service. Each key can be overridden under a service; a partial mapping',
      '(`retry: { tries: 2 }`) merges with these key by key, while a list (`retry.on`) replaces the whole list.',
    ]),
  );
  const services: ObjectSpec = { kind: 'object', doc: '', fields: serviceOwnFields };
  parts.push(
    section(
      'services',
      services,
      [
        'A mapping of service name to service. Names are RFC 1123 labels (a-z, 0-9, `-`, at most 63 chars).',
        'Besides the keys below, a service may set any key of [`defaults`](#defaults)',
        `(${Object.keys(policySpec.fields)
          .map((k) => `\`${k}\``)
          .join(', ')}) to override it for this service only.`,
        'Two services may not claim the same host + pathPrefix.',
      ],
      'services.<name>',
    ),
  );
  return parts.join('\n');
}

function section(key: string, field: FieldSpec, intro?: string[], prefix = key): string {
  const lines = [`## ${key}`, ''];
  if (intro) lines.push(...intro, '');
  else if (field.kind === 'object') lines.push(field.doc, '');
  lines.push('| Key | Type | Default | Description |', '|---|---|---|---|');
  rows(prefix, field, lines, field.kind === 'object' && prefix === key);
  lines.push('');
  return lines.join('\n');
}

function rows(path: string, field: FieldSpec, lines: string[], skipSelf = false): void {
  if (field.kind === 'object') {
    if (!skipSelf && path.includes('.') && field.doc) lines.push(row(path, 'mapping', '', field.doc));
    for (const [key, child] of Object.entries(field.fields)) rows(`${path}.${key}`, child, lines);
    return;
  }
  if (field.kind === 'list' && field.item.kind === 'object') {
    lines.push(row(path, 'list of mappings', defaultText(field), field.doc));
    for (const [key, child] of Object.entries(field.item.fields)) rows(`${path}[].${key}`, child, lines);
    return;
  }
  lines.push(row(path, typeText(field), defaultText(field), field.doc));
}

function row(path: string, type: string, def: string, doc: string): string {
  return `| \`${path}\` | ${cell(type)} | ${cell(def)} | ${cell(doc)} |`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function typeText(field: FieldSpec): string {
  switch (field.kind) {
    case 'duration':
      return field.allowZero ? 'duration (0 allowed)' : 'duration';
    case 'size':
      return field.min ? `size ≥ ${formatSize(field.min)}` : 'size';
    case 'integer':
      return `integer ${field.min}-${field.max}`;
    case 'number':
      return `number ${field.min}-${field.max}`;
    case 'boolean':
      return 'boolean';
    case 'enum':
      return field.values.map((v) => `\`${v}\``).join(' | ');
    case 'string':
      return field.typeDoc;
    case 'list':
      return field.item.kind === 'enum' ? `list of ${field.item.values.map((v) => `\`${v}\``).join(', ')}` : `list of ${typeText(field.item)}`;
    case 'object':
      return 'mapping';
  }
}

function defaultText(field: FieldSpec): string {
  if (field.defaultDoc !== undefined) return field.defaultDoc;
  if (field.required) return '**required**';
  switch (field.kind) {
    case 'duration':
      return field.default === undefined ? '' : `\`${formatDuration(field.default)}\``;
    case 'size':
      return field.default === undefined ? '' : `\`${formatSize(field.default)}\``;
    case 'list':
      return field.default === undefined ? '' : `\`[${field.default.map(String).join(', ')}]\``;
    case 'object':
      return '';
    default:
      return field.default === undefined ? '' : `\`${String(field.default)}\``;
  }
}
