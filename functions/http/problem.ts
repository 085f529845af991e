import type { Context } from 'hono';
import type * as z from 'zod';
import { AppError, ValidationError } from '../../core/errors.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Problem types are documented in the README; the URI names the section. */
const typeUri = (type: string): string => `https://tributary.dev/problems/${type}`;

/** Renders an AppError as an RFC 9457 problem document. */
export const problemResponse = (error: AppError, instance?: string): Response =>
  new Response(
    JSON.stringify({
      type: typeUri(error.type),
      title: error.title,
      status: error.status,
      ...(error.detail ? { detail: error.detail } : {}),
      ...(instance ? { instance } : {}),
      ...error.extensions,
    }),
    { status: error.status, headers: { 'content-type': PROBLEM_CONTENT_TYPE } },
  );

/** zod issues → 422 naming the path of every bad field. */
export const validationError = (error: z.ZodError, what: string): ValidationError =>
  new ValidationError(
    error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
    what,
  );

export const parseQuery = <S extends z.ZodType>(c: Context, schema: S): z.infer<S> => {
  const result = schema.safeParse(c.req.query());
  if (!result.success) throw validationError(result.error, 'The query string');
  return result.data;
};

export const parseJsonBody = async <S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> => {
  let body: unknown;
  try {
    const text = await c.req.text();
    body = text.trim() === '' ? {} : JSON.parse(text);
  } catch (cause) {
    throw new AppError({ status: 400, type: 'malformed-json', title: 'Malformed JSON', detail: 'The request body is not valid JSON.', cause });
  }
  const result = schema.safeParse(body);
  if (!result.success) throw validationError(result.error, 'The request body');
  return result.data;
};
