import type { FastifyPluginAsync, FastifyTypeProvider, RawServerDefault } from 'fastify';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type { deadLetterSchema } from './routes/dead-letters.ts';
import type { incidentDetailSchema, incidentSummarySchema, silenceSchema } from './schemas.ts';

/** The shared schemas a route may name by `$ref` (`IncidentSummary#`); their types resolve through it. */
type SharedSchemas = [
  typeof incidentSummarySchema,
  typeof incidentDetailSchema,
  typeof silenceSchema,
  typeof deadLetterSchema,
];

/** The type of values that JSON Schema `S` accepts (a request part), with the shared schemas' `$ref`s resolved. */
export type SchemaType<S> = S extends JSONSchema ? FromSchema<S, { references: SharedSchemas }> : unknown;

/**
 * What a handler may send for a response schema. The serializer drops properties a schema does not
 * name, so the open index signatures json-schema-to-ts adds are left out (Guardian's interfaces have
 * none), and arrays and fields are read-only as Guardian's domain types are.
 */
type Served<T> = T extends readonly (infer E)[]
  ? readonly Served<E>[]
  : T extends object
    ? keyof Named<T> extends never
      ? unknown
      : { readonly [K in keyof Named<T>]: Served<Named<T>[K]> }
    : T;
type Named<T> = { [K in keyof T as string extends K ? never : K]: T[K] };

/**
 * Infers a route's request (params, querystring, body, headers) and reply types from its JSON
 * Schemas with json-schema-to-ts, so a route's shape is written once: as the schema fastify
 * validates and serializes with and the OpenAPI document shows.
 */
export interface SchemaTypeProvider extends FastifyTypeProvider {
  validator: SchemaType<this['schema']>;
  serializer: Served<SchemaType<this['schema']>>;
}

/** A route plugin whose routes' types come from their schemas ({@link SchemaTypeProvider}). */
export type RoutePlugin<Options extends object = Record<never, never>> = FastifyPluginAsync<
  Options,
  RawServerDefault,
  SchemaTypeProvider
>;
