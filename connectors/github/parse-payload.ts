import type * as z from 'zod';
import { ValidationError } from '../../core/errors.ts';

/** A payload of a supported event that does not have the fields we read cannot be indexed: say which. */
export const parsePayload = <Schema extends z.ZodType>(schema: Schema, payload: unknown, event: string): z.output<Schema> => {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  throw new ValidationError(
    result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    `The GitHub ${event} payload`,
  );
};
