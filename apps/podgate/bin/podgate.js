#!/usr/bin/env -S node --no-memory-reducer
// The `podgate` bin. Committed, so that installing the workspace links it before anything is built
// (a bin pointing into dist/ made pnpm warn on a fresh clone, once a package linking it); it runs
// the built CLI, with the data plane's node flag from the line above.
const cli = new URL('../dist/cli.js', import.meta.url);
try {
  await import(cli.href);
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes(cli.pathname)) throw err;
  process.stderr.write('podgate: not built yet: run `pnpm build` (or `pnpm start`) first\n');
  process.exit(1);
}
