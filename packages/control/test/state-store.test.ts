import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateStore, StateStoreError } from '../src/state-store.js';
import { EMPTY_STATE, type PersistedState } from '../src/state-types.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'podgate-state-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function stateWith(counter: number): PersistedState {
  return {
    version: 1,
    services: [
      {
        name: `svc-${counter}`,
        input: { name: `svc-${counter}`, port: 8080, routes: [{ prefix: '/' }] },
        addedAt: 1_700_000_000_000 + counter,
        actor: 'alice',
      },
    ],
    holds: [{ service: 'svc', address: '127.10.0.1', hold: counter % 2 === 0 ? 'drain' : 'eject', at: counter, actor: 'bob' }],
  };
}

/** A valid state file's JSON with one thing changed by `mutate`. */
function validJson(
  mutate: (raw: { version: unknown; services: Record<string, unknown>[]; holds: Record<string, unknown>[] } & Record<string, unknown>) => void,
): string {
  const raw = {
    version: 1,
    services: [0, 1, 2].map((i) => ({ name: `svc-${i}`, input: {}, addedAt: i, actor: 'alice' })),
    holds: [{ service: 'svc-0', address: '127.10.0.1', hold: 'drain', at: 1, actor: 'bob' }],
  };
  mutate(raw as never);
  return JSON.stringify(raw);
}

async function rejection(p: Promise<unknown>): Promise<StateStoreError> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StateStoreError);
  return err as StateStoreError;
}

async function tempFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith('state.json.tmp-'));
}

describe('StateStore', () => {
  it('starts from the empty state and writes nothing when there is no state file', async () => {
    const store = await StateStore.open(root);
    expect(store.path).toBe(join(root, 'state.json'));
    expect(store.state).toEqual(EMPTY_STATE);
    expect(await readdir(root)).toEqual([]);
  });

  it('loads back what it saved after a fresh open', async () => {
    const store = await StateStore.open(root);
    await store.save(stateWith(7));
    expect(store.state).toEqual(stateWith(7));
    const again = await StateStore.open(root);
    expect(again.state).toEqual(stateWith(7));
    expect(await tempFiles(root)).toEqual([]);
  });

  it('creates missing directories with mode 0700 and the state file with mode 0600', async () => {
    const dir = join(root, 'var', 'podgate');
    const store = await StateStore.open(dir);
    await store.save(stateWith(1));
    expect((await stat(join(root, 'var'))).mode & 0o777).toBe(0o700);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(store.path)).mode & 0o777).toBe(0o600);
  });

  it('keeps its state when the saved object is changed after save was called', async () => {
    const store = await StateStore.open(root);
    const next = stateWith(1);
    const saved = store.save(next);
    next.services.length = 0;
    await saved;
    expect(store.state.services).toHaveLength(1);
    expect((await StateStore.open(root)).state).toEqual(stateWith(1));
  });

  describe('refuses a corrupt file, names it and leaves the directory untouched', () => {
    const cases: [string, string, string][] = [
      ['not JSON', '{"version": 1, "services": [', 'not valid JSON'],
      ['an empty file', '', 'not valid JSON'],
      ['a JSON array', '[]', '(top level): expected an object, got an array'],
      ['another version', validJson((r) => (r.version = 2)), 'version: expected 1, got 2'],
      ['a missing version', validJson((r) => delete r.version), 'version: missing'],
      ['a service name that is a number', validJson((r) => (r.services[2]!.name = 42)), 'services[2].name: expected a string, got a number'],
      ['a service without actor', validJson((r) => delete r.services[1]!.actor), 'services[1].actor: missing'],
      [
        'an infinite addedAt',
        validJson((r) => (r.services[0]!.addedAt = 0)).replace('"addedAt":0', '"addedAt":1e999'),
        'services[0].addedAt: expected a finite number, got Infinity',
      ],
      ['services that is an object', validJson((r) => (r.services = {} as never)), 'services: expected an array, got an object'],
      ['an unknown hold', validJson((r) => (r.holds[0]!.hold = 'pause')), 'holds[0].hold: expected "drain" or "eject", got a string ("pause")'],
      ['a hold time that is a string', validJson((r) => (r.holds[0]!.at = '1')), 'holds[0].at: expected a finite number, got a string ("1")'],
      ['a null hold entry', validJson((r) => (r.holds[0] = null as never)), 'holds[0]: expected an object, got null'],
      ['an unknown key', validJson((r) => (r.holds[0]!.until = 5)), 'holds[0].until: unexpected key'],
    ];
    it.each(cases)('%s', async (_name, content, what) => {
      const path = join(root, 'state.json');
      await writeFile(path, content, { mode: 0o600 });
      const stale = join(root, 'state.json.tmp-1-1');
      await writeFile(stale, 'half a save');
      const before = await stat(path);

      const err = await rejection(StateStore.open(root));
      expect(err.code).toBe('PODGATE_STATE_CORRUPT');
      expect(err.path).toBe(path);
      expect(err.message).toContain(`${path}: ${what}`);
      expect(err.message).toContain('left the file untouched');

      expect(await readFile(path, 'utf8')).toBe(content);
      const after = await stat(path);
      expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
      // Even the stale temp file stays: after a failed start the directory is as the crash left it.
      expect((await readdir(root)).sort()).toEqual(['state.json', 'state.json.tmp-1-1']);
    });
  });

  it('reports a directory named state.json as unreadable', async () => {
    const path = join(root, 'state.json');
    await mkdir(path);
    const err = await rejection(StateStore.open(root));
    expect(err.code).toBe('PODGATE_STATE_UNREADABLE');
    expect(err.path).toBe(path);
    expect(err.message).toContain(`${path}: cannot read the state file (EISDIR`);
    expect((await stat(path)).isDirectory()).toBe(true);
  });

  it('lands concurrent saves one after another in call order, and the last one wins on disk', async () => {
    const store = await StateStore.open(root);
    const resolved: number[] = [];
    const seen: number[] = [];
    const saves = Array.from({ length: 20 }, (_, i) =>
      store.save(stateWith(i)).then(() => {
        resolved.push(i);
        // `state` moves forward with each save as it lands, never ahead of it.
        seen.push(store.state.holds[0]!.at);
      }),
    );
    await Promise.all(saves);
    const order = Array.from({ length: 20 }, (_, i) => i);
    expect(resolved).toEqual(order);
    expect(seen).toEqual(order);
    expect(JSON.parse(await readFile(store.path, 'utf8'))).toEqual(stateWith(19));
    expect(await tempFiles(root)).toEqual([]);
  });

  it('rejects a save when the directory is gone, keeps the old file and state, and saves again once it is back', async () => {
    const dir = join(root, 'state');
    const store = await StateStore.open(dir);
    await store.save(stateWith(1));
    // Running as root, a read-only mode would not stop the write: put a file where the directory was.
    await rename(dir, `${dir}.away`);
    await writeFile(dir, 'not a directory');

    const err = await rejection(store.save(stateWith(2)));
    expect(err.code).toBe('PODGATE_STATE_WRITE_FAILED');
    expect(err.path).toBe(store.path);
    expect(err.message).toContain(`${store.path}: could not create the temp file`);
    expect(store.state).toEqual(stateWith(1));

    await unlink(dir);
    await rename(`${dir}.away`, dir);
    expect(JSON.parse(await readFile(store.path, 'utf8'))).toEqual(stateWith(1));
    await store.save(stateWith(3));
    expect((await StateStore.open(dir)).state).toEqual(stateWith(3));
  });

  it('removes its temp file when the rename over state.json fails', async () => {
    const store = await StateStore.open(root);
    // rename(2) cannot replace a non-empty directory.
    await mkdir(join(store.path, 'x'), { recursive: true });
    const err = await rejection(store.save(stateWith(1)));
    expect(err.code).toBe('PODGATE_STATE_WRITE_FAILED');
    expect(err.message).toContain('could not rename the temp file over state.json');
    expect(await tempFiles(root)).toEqual([]);
    expect(store.state).toEqual(EMPTY_STATE);
  });

  it('refuses to save a state that would not load back and leaves the file alone', async () => {
    const store = await StateStore.open(root);
    await store.save(stateWith(1));
    const bad = stateWith(2);
    bad.holds[0]!.at = Number.NaN; // JSON writes NaN as null
    const err = await rejection(store.save(bad));
    expect(err.code).toBe('PODGATE_STATE_WRITE_FAILED');
    expect(err.message).toContain('holds[0].at: expected a finite number, got null');
    expect(store.state).toEqual(stateWith(1));
    expect(JSON.parse(await readFile(store.path, 'utf8'))).toEqual(stateWith(1));
  });

  it('removes temp files a crash left behind when it opens', async () => {
    await writeFile(join(root, 'state.json'), JSON.stringify(stateWith(4)));
    await writeFile(join(root, 'state.json.tmp-123-1'), '{"version":1,"serv');
    await writeFile(join(root, 'state.json.tmp-456-9'), JSON.stringify(stateWith(5)));
    await writeFile(join(root, 'token'), 'kept');
    const store = await StateStore.open(root);
    expect(store.state).toEqual(stateWith(4));
    expect((await readdir(root)).sort()).toEqual(['state.json', 'token']);
  });
});

describe('StateStore under kill -9', () => {
  // The child imports the sources transpiled on the spot rather than dist/, so the test checks the
  // code under test even when dist/ is stale or another package's build is broken.
  async function transpile(into: string): Promise<string> {
    await mkdir(into);
    await writeFile(join(into, 'package.json'), '{"type":"module"}');
    for (const name of ['state-store', 'state-types']) {
      const source = await readFile(new URL(`../src/${name}.ts`, import.meta.url), 'utf8');
      const out = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
      });
      await writeFile(join(into, `${name}.js`), out.outputText);
    }
    return pathToFileURL(join(into, 'state-store.js')).href;
  }

  // Saves forever, each state one counter ahead of what it loaded, and prints a counter only after
  // its save resolved. Every service and the hold carry the counter, so a torn file would show.
  // Measured against a writer that truncates state.json in place instead of renaming a temp file:
  // 5 rounds of up to 300 ms let it pass about half the time; 15 rounds of up to 150 ms caught it
  // 10 times out of 10, in about 3 s. A save takes about 1 ms here (fsync on ext4).
  const ROUNDS = 15;
  const MAX_DELAY_MS = 150;
  const CHILD = `
    const { StateStore } = await import(process.env.STORE_URL);
    const store = await StateStore.open(process.env.STATE_DIR);
    let n = store.state.holds[0]?.at ?? 0;
    for (let i = 0; i < 5000; i++) {
      n++;
      const services = Array.from({ length: 20 }, (_, s) => ({ name: 'svc-' + s, input: { n, pad: 'x'.repeat(200) }, addedAt: n, actor: 'loop' }));
      await store.save({ version: 1, services, holds: [{ service: 'svc-0', address: '127.10.0.1', hold: n % 2 ? 'drain' : 'eject', at: n, actor: 'loop' }] });
      process.stdout.write(n + '\\n');
    }
    setInterval(() => {}, 1000);
  `;

  /** Runs the child, SIGKILLs it `delayMs` after its first acknowledged save; returns the last acknowledged counter. */
  function runAndKill(storeUrl: string, dir: string, delayMs: number): Promise<{ lastAck: number; acks: number }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
        env: { ...process.env, STORE_URL: storeUrl, STATE_DIR: dir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      let killed = false;
      const guard = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.stdout.on('data', (c: Buffer) => {
        if (out === '') setTimeout(() => ((killed = true), child.kill('SIGKILL')), delayMs);
        out += c.toString();
      });
      child.on('error', reject);
      child.on('close', (_code, signal) => {
        clearTimeout(guard);
        // Only whole lines count: a line is written after its save resolved.
        const lines = out.split('\n').slice(0, -1);
        if (!killed || signal !== 'SIGKILL' || lines.length === 0) {
          reject(new Error(`child ended on its own (signal ${signal}, ${lines.length} acks): ${err}`));
          return;
        }
        resolve({ lastAck: Number(lines[lines.length - 1]), acks: lines.length });
      });
    });
  }

  it('keeps every acknowledged save when the writer is killed at a random moment, fifteen times over', async () => {
    const storeUrl = await transpile(join(root, 'mod'));
    const dir = join(root, 'state');
    let previous = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const delayMs = Math.floor(Math.random() * MAX_DELAY_MS);
      const { lastAck, acks } = await runAndKill(storeUrl, dir, delayMs);
      const store = await StateStore.open(dir);
      const counter = store.state.holds[0]?.at ?? 0;
      console.log(delayMs, acks, lastAck, counter);
      const context = `round ${round}, killed ${delayMs} ms after the first ack, ${acks} acks, last ${lastAck}`;
      expect(lastAck, context).toBeGreaterThan(previous);
      // Serial saves: on disk is the last acknowledged one, or the one in flight when the kill came.
      expect([lastAck, lastAck + 1], context).toContain(counter);
      expect(new Set(store.state.services.map((s) => s.addedAt)), context).toEqual(new Set([counter]));
      expect(await tempFiles(dir), context).toEqual([]);
      previous = counter;
    }
  });
});
