import * as z from 'zod';
import type { Operation } from './openapi-registry.ts';

const schemaOf = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' });

const pathParameters = (path: string) =>
  [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));

const queryParameters = (query: z.ZodObject | undefined) =>
  Object.entries(query?.shape ?? {}).map(([name, schema]) => {
    const json = schemaOf(schema as z.ZodType) as { description?: string };
    return { name, in: 'query', required: false, schema: json, ...(json.description ? { description: json.description } : {}) };
  });

/** The OpenAPI 3.1 document, generated from the zod schemas the routes validate with. */
export const buildOpenApi = (operations: readonly Operation[], info: { version: string; serverUrl: string }) => {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      summary: op.summary,
      tags: [op.tag],
      ...(op.deprecated ? { deprecated: true } : {}),
      ...(op.scope ? { security: [{ bearer: [op.scope] }] } : {}),
      parameters: [...pathParameters(op.path), ...queryParameters(op.query)],
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOf(op.body) } } } } : {}),
      ...(op.rawBody ? { requestBody: { required: true, description: op.rawBody, content: { '*/*': {} } } } : {}),
      responses: Object.fromEntries(
        Object.entries(op.responses).map(([status, r]) => [
          status,
          {
            description: r.description,
            ...(r.schema || r.contentType
              ? { content: { [r.contentType ?? 'application/json']: r.schema ? { schema: schemaOf(r.schema) } : {} } }
              : {}),
          },
        ]),
      ),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tributary',
      version: info.version,
      description: 'One cross-tool work index fed by GitHub, Jira and email webhooks. Errors are RFC 9457 application/problem+json.',
    },
    servers: [{ url: info.serverUrl }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'tenant token: read, admin, or operator scope' } } },
    paths,
  };
};
