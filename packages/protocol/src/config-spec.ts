/*
 * The language the config schema (config-schema.ts) is written in. Each key is described once; from
 * that one description the loader (@podgate/config) validates and fills defaults, configDocs()
 * renders docs/config.md, config-json-schema.ts builds the admin API's body schema, and the types
 * below derive the resolved shape (`Resolved`) and the accepted input (`Input`).
 */

/** A key of the config file. */
export type FieldSpec = DurationSpec | SizeSpec | IntegerSpec | NumberSpec | BooleanSpec | EnumSpec | StringSpec | ListSpec | ObjectSpec;

interface Common {
  /** One or two sentences for the docs: what it does and why the default. */
  readonly doc: string;
  /** Key in the resolved config, when it differs from the YAML key (`timeout` → `timeoutMs`). */
  readonly out?: string;
  /** Must be given; there is no default. */
  readonly required?: boolean;
  /** For the docs, when the default is not a plain value (`[{ pathPrefix: / }]`, "none"). */
  readonly defaultDoc?: string;
}

export interface DurationSpec extends Common {
  readonly kind: 'duration';
  /** Milliseconds. */
  readonly default?: number;
  /** 0 is accepted (otherwise durations must be positive). */
  readonly allowZero?: boolean;
}

export interface SizeSpec extends Common {
  readonly kind: 'size';
  /** Bytes. */
  readonly default?: number;
  readonly min?: number;
}

export interface IntegerSpec extends Common {
  readonly kind: 'integer';
  readonly default?: number;
  readonly min: number;
  readonly max: number;
}

export interface NumberSpec extends Common {
  readonly kind: 'number';
  readonly default?: number;
  readonly min: number;
  readonly max: number;
}

export interface BooleanSpec extends Common {
  readonly kind: 'boolean';
  readonly default?: boolean;
}

export interface EnumSpec extends Common {
  readonly kind: 'enum';
  readonly values: readonly string[];
  readonly default?: string;
}

/**
 * What a string key must be, and what it resolves to. The checks live where they can run: the pure
 * ones in string-checks.ts (the dashboard uses them too), the ones that need node:net or node:os
 * in @podgate/config.
 */
export interface StringFormats {
  /** RFC 1123 host name, lower-cased. */
  dnsName: string;
  /** A route's Host: a host name without port or wildcard, lower-cased. */
  routeHost: string;
  /** A route's path prefix: starts with `/`. */
  pathPrefix: string;
  /** A return probe's HTTP path, or empty. */
  probePath: string;
  /** `host:port` or `[v6]:port`. */
  listen: { host: string; port: number };
  /** `ip:port` or `[v6]:port`. */
  nameserver: string;
  /** `auto` (one per core) or a count. */
  workers: number;
  /** A bearer token. */
  token: string;
  /** A browser origin. */
  origin: string;
  /** Any text but empty. */
  nonEmpty: string;
  /** A `redis:` or `rediss:` URL, or empty (no fleet). */
  redisUrl: string;
  /** A fleet's name: one DNS label. */
  fleetName: string;
}
export type StringFormat = keyof StringFormats;

export interface StringSpec extends Common {
  readonly kind: 'string';
  /** Type as the docs show it (`"host:port"`, `DNS name`). */
  readonly typeDoc: string;
  readonly format: StringFormat;
  /** The YAML form of the default, resolved through the format's check. */
  readonly default?: string;
  /** A YAML number is taken as its text (`workers: 2` as well as `workers: auto`). */
  readonly acceptNumber?: boolean;
}

export interface ListSpec extends Common {
  readonly kind: 'list';
  readonly item: FieldSpec;
  /** The YAML form of the default, resolved through `item`. */
  readonly default?: readonly unknown[];
  /** Drop repeated items. */
  readonly unique?: boolean;
  /** Empty lists are rejected. */
  readonly nonEmpty?: boolean;
  /** Longer lists are rejected. */
  readonly maxItems?: number;
}

export interface ObjectSpec extends Common {
  readonly kind: 'object';
  readonly fields: { readonly [key: string]: FieldSpec };
}

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The resolved value of a key: defaults filled in, durations in milliseconds, sizes in bytes. */
export type Resolved<S> = S extends { kind: 'duration' | 'size' | 'integer' | 'number' }
  ? number
  : S extends { kind: 'boolean' }
    ? boolean
    : S extends { kind: 'enum'; values: readonly (infer V)[] }
      ? V
      : S extends { kind: 'string'; format: infer F extends StringFormat }
        ? StringFormats[F]
        : S extends { kind: 'list'; item: infer I }
          ? Resolved<I>[]
          : S extends { kind: 'object'; fields: infer F }
            ? ResolvedFields<F>
            : never;

/** A mapping's keys may be left out when they have neither a default nor `required` (a route's host); mappings are always filled. */
type MayBeAbsent<S> = S extends { kind: 'object' } ? false : S extends { default: unknown } | { required: true } ? false : true;
type OutKey<K, S> = S extends { out: infer O extends string } ? O : K;

export type ResolvedFields<F> = Simplify<
  { -readonly [K in keyof F as MayBeAbsent<F[K]> extends true ? never : OutKey<K, F[K]>]: Resolved<F[K]> } & {
    -readonly [K in keyof F as MayBeAbsent<F[K]> extends true ? OutKey<K, F[K]> : never]?: Resolved<F[K]>;
  }
>;

/** What a key accepts in an API body (the config file also takes null for "the default"). */
export type Input<S> = S extends { kind: 'duration' | 'size' }
  ? string | number
  : S extends { kind: 'integer' | 'number' }
    ? number
    : S extends { kind: 'boolean' }
      ? boolean
      : S extends { kind: 'enum'; values: readonly (infer V)[] }
        ? V
        : S extends { kind: 'string'; acceptNumber: true }
          ? string | number
          : S extends { kind: 'string' }
            ? string
            : S extends { kind: 'list'; item: infer I }
              ? Input<I>[]
              : S extends { kind: 'object'; fields: infer F }
                ? InputFields<F>
                : never;

export type InputFields<F> = Simplify<
  { -readonly [K in keyof F as F[K] extends { required: true } ? K : never]: Input<F[K]> } & {
    -readonly [K in keyof F as F[K] extends { required: true } ? never : K]?: Input<F[K]>;
  }
>;
