import type { StringCheck } from './addresses.js';

/**
 * A key of the config file, described once: the loader validates and fills defaults from it, and
 * configDocs() renders docs/config.md from it.
 */
export type FieldSpec =
  | DurationSpec
  | SizeSpec
  | IntegerSpec
  | NumberSpec
  | BooleanSpec
  | EnumSpec
  | StringSpec
  | ListSpec
  | ObjectSpec;

interface Common {
  /** One or two sentences for the docs: what it does and why the default. */
  doc: string;
  /** Key in the resolved PodgateConfig, when it differs from the YAML key (`timeout` → `timeoutMs`). */
  out?: string;
  /** Must be given; there is no default. */
  required?: boolean;
  /** For the docs, when the default is not a plain value (`[{ pathPrefix: / }]`, "none"). */
  defaultDoc?: string;
}

export interface DurationSpec extends Common {
  kind: 'duration';
  /** Milliseconds. */
  default?: number;
  /** 0 is accepted (otherwise durations must be positive). */
  allowZero?: boolean;
}

export interface SizeSpec extends Common {
  kind: 'size';
  /** Bytes. */
  default?: number;
  min?: number;
}

export interface IntegerSpec extends Common {
  kind: 'integer';
  default?: number;
  min: number;
  max: number;
}

export interface NumberSpec extends Common {
  kind: 'number';
  default?: number;
  min: number;
  max: number;
}

export interface BooleanSpec extends Common {
  kind: 'boolean';
  default?: boolean;
}

export interface EnumSpec extends Common {
  kind: 'enum';
  values: readonly string[];
  default?: string;
}

export interface StringSpec extends Common {
  kind: 'string';
  /** Type as the docs show it (`"host:port"`, `DNS name`). */
  typeDoc: string;
  check: StringCheck<unknown>;
  /** The YAML form of the default, parsed through `check`. */
  default?: string;
  /** A YAML number is taken as its text (`workers: 2` as well as `workers: auto`). */
  acceptNumber?: boolean;
}

export interface ListSpec extends Common {
  kind: 'list';
  item: FieldSpec;
  /** The YAML form of the default, resolved through `item`. */
  default?: unknown[];
  /** Drop repeated items. */
  unique?: boolean;
  /** Empty lists are rejected. */
  nonEmpty?: boolean;
}

export interface ObjectSpec extends Common {
  kind: 'object';
  fields: Record<string, FieldSpec>;
}
