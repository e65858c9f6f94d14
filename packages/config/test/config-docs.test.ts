import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configDocs } from '../src/index.js';

const docsPath = fileURLToPath(new URL('../../../docs/config.md', import.meta.url));

describe('docs/config.md', () => {
  // The docs are rendered from the schema, so a key added or changed without the docs fails here.
  it('is up to date with the config schema', async () => {
    const expected = configDocs();
    if (process.env.UPDATE_CONFIG_DOCS === '1') await writeFile(docsPath, expected);
    const actual = await readFile(docsPath, 'utf8').catch(() => '');
    expect(actual, 'docs/config.md is stale: run packages/config/scripts/gen-config-docs.sh').toBe(expected);
  });

  it('documents every key with a description', () => {
    for (const line of configDocs()
      .split('\n')
      .filter((l) => l.startsWith('| `'))) {
      expect(line, line).toMatch(/\| [^|]*[a-z][^|]* \|$/);
    }
  });
});
