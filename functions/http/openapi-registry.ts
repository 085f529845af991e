import type * as z from 'zod';

/** One documented operation; route modules declare theirs next to the handlers. */
export interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI path template, e.g. `/v1/items/{id}` */
  path: string;
  summary: string;
  tag: string;
  /** `read`, `admin` or `operator` token; none for webhooks and public endpoints */
  scope?: 'read' | 'admin' | 'operator';
  query?: z.ZodObject;
  body?: z.ZodType;
  /** raw request body of a webhook (documented, not validated here) */
  rawBody?: string;
  /** still served, but to be removed: the summary names the replacement (OpenAPI `deprecated`) */
  deprecated?: boolean;
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}
