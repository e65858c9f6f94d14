import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { EMPTY_STATE, type PersistedState, type StateStorage } from './state-types.js';

export type StateStoreErrorCode = 'PODGATE_STATE_CORRUPT' | 'PODGATE_STATE_UNREADABLE' | 'PODGATE_STATE_WRITE_FAILED';

export class StateStoreError extends Error {
  readonly code: StateStoreErrorCode;
  /** The state file (or, when the directory itself is unusable, the directory). */
  readonly path: string;

  constructor(code: StateStoreErrorCode, path: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'StateStoreError';
    this.code = code;
    this.path = path;
  }
}

const FILE = 'state.json';
const TMP_PREFIX = `${FILE}.tmp-`;
const UNTOUCHED = 'podgate left the file untouched; repair it, or move it aside to start without the saved changes';

// Process-wide, so two stores in one process never pick the same temp name.
let tmpCounter = 0;

/**
 * The state file: `<dir>/state.json`, replaced atomically on every save.
 *
 * Crash model: a save writes a temp file, fsyncs it, renames it over state.json and fsyncs the
 * directory. A crash at any point leaves either the old or the new state.json, whole, plus at
 * worst a stale temp file that the next `open` removes.
 */
export class StateStore implements StateStorage {
  readonly path: string;
  private readonly dir: string;
  private current: PersistedState;
  /** Tail of the save queue; never rejects, so one failed save does not stop the next. */
  private tail: Promise<void> = Promise.resolve();

  private constructor(dir: string, state: PersistedState) {
    this.dir = dir;
    this.path = join(dir, FILE);
    this.current = state;
  }

  /**
   * Creates `dir` (mode 0700) if needed and loads state.json from it. A missing file is
   * EMPTY_STATE and nothing is written until the first save. A corrupt or unreadable file
   * rejects, and nothing in the directory is touched.
   */
  static async open(dir: string): Promise<StateStore> {
    const path = join(dir, FILE);
    try {
      // 0700: the directory also holds the generated operator token (issue 3, Security).
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new StateStoreError('PODGATE_STATE_UNREADABLE', dir, `${dir}: cannot create the state directory (${errText(err)})`, err);
    }
    const text = await readStateFile(path);
    // A copy: a caller that edits `state` in place must not edit the shared constant.
    let state: PersistedState = structuredClone(EMPTY_STATE);
    if (text !== null) {
      try {
        state = parseState(text);
      } catch (err) {
        if (!(err instanceof ShapeError)) throw err;
        throw new StateStoreError('PODGATE_STATE_CORRUPT', path, `${path}: ${err.message}; ${UNTOUCHED}`, err.cause);
      }
    }
    // Only once the state loaded: after a failed open the directory is exactly as the crash left it.
    await removeStaleTemps(dir);
    return new StateStore(dir, state);
  }

  /** The last state loaded or durably saved, as read back from its JSON (not the object passed to save). */
  get state(): PersistedState {
    return this.current;
  }

  /**
   * Makes `next` durable, then resolves. Saves run one at a time in call order; `next` is
   * serialized at call time, so changing it afterwards does not change what is written.
   * On failure: rejects with PODGATE_STATE_WRITE_FAILED, state.json keeps its previous content
   * (except after a failed directory fsync, see below) and `state` is unchanged.
   */
  save(next: PersistedState): Promise<void> {
    let text: string;
    let copy: PersistedState;
    try {
      text = `${JSON.stringify(next, null, 2)}\n`;
      // Never write a file that open() would refuse (NaN becomes null, a BigInt throws, ...).
      copy = parseState(text);
    } catch (err) {
      const msg = `${this.path}: refused to save a state that would not load back (${errText(err)}); state.json was not changed`;
      return Promise.reject(new StateStoreError('PODGATE_STATE_WRITE_FAILED', this.path, msg, err));
    }
    const done = this.tail.then(async () => {
      await this.write(text);
      this.current = copy;
    });
    this.tail = done.catch(() => undefined);
    return done;
  }

  private async write(text: string): Promise<void> {
    const tmp = join(this.dir, `${TMP_PREFIX}${process.pid}-${++tmpCounter}`);
    let step = 'create the temp file';
    let renamed = false;
    try {
      // wx: never reuse a file someone else left there; 0600: operator actions and who took them.
      const fh = await open(tmp, 'wx', 0o600);
      try {
        step = 'write the temp file';
        await fh.writeFile(text, 'utf8');
        // Data must be on disk before the rename publishes it, or a power cut can leave an empty state.json.
        step = 'fsync the temp file';
        await fh.sync();
      } finally {
        await fh.close();
      }
      step = 'rename the temp file over state.json';
      await rename(tmp, this.path);
      renamed = true;
      // A rename is only durable once the directory entry is: fsync(2) on the file does not cover it.
      step = 'fsync the state directory';
      await syncDir(this.dir);
    } catch (err) {
      if (!renamed) await unlink(tmp).catch(() => undefined);
      const after = renamed ? '; state.json was replaced but may not survive a power loss' : '; state.json was not changed';
      throw new StateStoreError('PODGATE_STATE_WRITE_FAILED', this.path, `${this.path}: could not ${step} (${errText(err)})${after}`, err);
    }
  }
}

/** The file's text, or null when there is none. */
async function readStateFile(path: string): Promise<string | null> {
  let fh: FileHandle;
  try {
    // O_NONBLOCK so a FIFO named state.json fails the type check below instead of hanging the start.
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return null;
    throw unreadable(path, errText(err), err);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw unreadable(path, st.isDirectory() ? 'EISDIR: it is a directory' : 'not a regular file');
    return await fh.readFile('utf8');
  } catch (err) {
    if (err instanceof StateStoreError) throw err;
    throw unreadable(path, errText(err), err);
  } finally {
    await fh.close();
  }
}

function unreadable(path: string, reason: string, cause?: unknown): StateStoreError {
  return new StateStoreError('PODGATE_STATE_UNREADABLE', path, `${path}: cannot read the state file (${reason}); ${UNTOUCHED}`, cause);
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Temp files are only ever complete-but-unpublished or partial saves of a process that died. */
async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(TMP_PREFIX)) await unlink(join(dir, name)).catch(() => undefined);
  }
}

// ---- validation -------------------------------------------------------------------------------

class ShapeError extends Error {}

/** Throws a ShapeError whose message is the JSON path of the first problem and what is wrong there. */
function parseState(text: string): PersistedState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ShapeError(`not valid JSON (${errText(err)})`, { cause: err });
  }
  return toState(raw);
}

function toState(raw: unknown): PersistedState {
  const top = record(raw, '(top level)', ['version', 'services', 'holds']);
  if (top.version !== 1) throw new ShapeError(`version: expected 1, got ${typeof top.version === 'number' ? top.version : kind(top.version)}`);
  const services = array(top.services, 'services').map((item, i) => {
    const at = `services[${i}]`;
    // `input` may be absent: it is `unknown`, and JSON drops an undefined value.
    const s = record(item, at, ['name', 'input', 'addedAt', 'actor', 'instance'], ['input', 'instance']);
    const service = { name: string(s.name, `${at}.name`), input: s.input, addedAt: number(s.addedAt, `${at}.addedAt`), actor: string(s.actor, `${at}.actor`) };
    return s.instance === undefined ? service : { ...service, instance: string(s.instance, `${at}.instance`) };
  });
  const holds = array(top.holds, 'holds').map((item, i) => {
    const at = `holds[${i}]`;
    // `instance`: the fleet instance the change came through, when podgate runs in a fleet.
    const h = record(item, at, ['service', 'address', 'hold', 'at', 'actor', 'instance'], ['instance']);
    const saved = {
      service: string(h.service, `${at}.service`),
      address: string(h.address, `${at}.address`),
      hold: hold(h.hold, `${at}.hold`),
      at: number(h.at, `${at}.at`),
      actor: string(h.actor, `${at}.actor`),
    };
    return h.instance === undefined ? saved : { ...saved, instance: string(h.instance, `${at}.instance`) };
  });
  return { version: 1, services, holds };
}

/**
 * An object with exactly `keys` (minus `optional` ones). Unknown keys are refused: a field added
 * to PersistedState without a check here must fail loudly, not be dropped on the next save.
 */
function record(v: unknown, at: string, keys: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ShapeError(`${at}: expected an object, got ${kind(v)}`);
  const obj = v as Record<string, unknown>;
  const prefix = at === '(top level)' ? '' : `${at}.`;
  for (const key of keys) {
    if (!(key in obj) && !optional.includes(key)) throw new ShapeError(`${prefix}${key}: missing`);
  }
  for (const key of Object.keys(obj)) {
    if (!keys.includes(key)) throw new ShapeError(`${prefix}${key}: unexpected key`);
  }
  return obj;
}

function array(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw new ShapeError(`${at}: expected an array, got ${kind(v)}`);
  return v;
}

function string(v: unknown, at: string): string {
  if (typeof v !== 'string') throw new ShapeError(`${at}: expected a string, got ${kind(v)}`);
  return v;
}

function number(v: unknown, at: string): number {
  // 1e999 parses to Infinity; a timestamp that is not finite is as wrong as a string.
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ShapeError(`${at}: expected a finite number, got ${kind(v)}`);
  return v;
}

function hold(v: unknown, at: string): PersistedState['holds'][number]['hold'] {
  if (v !== 'drain' && v !== 'eject') throw new ShapeError(`${at}: expected "drain" or "eject", got ${kind(v)}`);
  return v;
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (typeof v === 'string') return `a string (${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)})`;
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

function codeOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
