import { AppError } from '../core/errors.ts';

export class InvalidCursorError extends AppError {
  constructor() {
    super({
      status: 400,
      type: 'invalid-cursor',
      title: 'Invalid cursor',
      detail: 'The cursor does not belong to this query. Pass `nextCursor` back unchanged, with the same filters.',
    });
    this.name = 'InvalidCursorError';
  }
}

/** A page cursor names the index partition it belongs to, so it cannot be replayed against another query. */
export const encodeCursor = (partition: string, key: Record<string, unknown>): string =>
  Buffer.from(JSON.stringify({ p: partition, k: key })).toString('base64url');

export const decodeCursor = (cursor: string, partition: string): Record<string, unknown> => {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { p: string; k: Record<string, unknown> };
    if (parsed.p !== partition || typeof parsed.k !== 'object') throw new Error('other query');
    return parsed.k;
  } catch {
    throw new InvalidCursorError();
  }
};
