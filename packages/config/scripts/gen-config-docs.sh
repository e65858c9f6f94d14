#!/bin/sh
# Regenerates docs/config.md from the config schema (packages/protocol/src/config-schema.ts).
# The docs test renders configDocs() and, with UPDATE_CONFIG_DOCS=1, writes it before comparing;
# going through vitest runs the TypeScript sources directly, with no build first.
set -e
cd "$(dirname "$0")/.."
UPDATE_CONFIG_DOCS=1 exec npx vitest run test/config-docs.test.ts
