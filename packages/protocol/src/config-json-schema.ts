import { Type, type TSchema } from '@sinclair/typebox';
import type { FieldSpec, ObjectSpec } from './config-spec.js';

/**
 * The JSON schema of what a spec accepts in an API body, for the admin API's validator: kinds,
 * ranges, enums, list lengths and known keys. What JSON cannot say (a duration's text, a DNS name)
 * is checked after it by the config loader's own rules, so both paths name the same field.
 */
export function inputSchemaOf(spec: FieldSpec): TSchema {
  switch (spec.kind) {
    case 'duration':
    case 'size':
      return Type.Union([Type.String(), Type.Number()]);
    case 'integer':
      return Type.Integer({ minimum: spec.min, maximum: spec.max });
    case 'number':
      return Type.Number({ minimum: spec.min, maximum: spec.max });
    case 'boolean':
      return Type.Boolean();
    case 'enum':
      return Type.Union(spec.values.map((v) => Type.Literal(v)));
    case 'string':
      return spec.acceptNumber === true ? Type.Union([Type.String(), Type.Number()]) : Type.String();
    case 'list':
      return Type.Array(inputSchemaOf(spec.item), {
        ...(spec.nonEmpty === true ? { minItems: 1 } : {}),
        ...(spec.maxItems === undefined ? {} : { maxItems: spec.maxItems }),
      });
    case 'object':
      return Type.Object(inputPropertiesOf(spec), { additionalProperties: false });
  }
}

/** The properties of an object spec's schema: required keys as they are, the others optional. */
export function inputPropertiesOf(spec: ObjectSpec): Record<string, TSchema> {
  const properties: Record<string, TSchema> = {};
  for (const [key, field] of Object.entries(spec.fields)) {
    properties[key] = field.required === true ? inputSchemaOf(field) : Type.Optional(inputSchemaOf(field));
  }
  return properties;
}
