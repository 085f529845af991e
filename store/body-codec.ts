import { deflateRawSync, gunzipSync, gzipSync, inflateRawSync } from 'node:zlib';
import githubShape from './body-dictionaries/github-1.json' with { type: 'json' };
import jiraShape from './body-dictionaries/jira-1.json' with { type: 'json' };

/**
 * How a delivery's raw body is compressed in its record. A webhook payload is mostly its tool's
 * field names and API URL templates, which gzip has to spell out once in every body; deflate with a
 * preset dictionary of one payload of the same tool refers to them instead. On GitHub's example
 * payloads of the supported events (their owner and repository renamed, so that they share only the
 * shape with the dictionary) bodies shrink from 2.0 KB to 1.2 KB, and on the Jira Cloud samples from
 * 1.5 to 1.0 KB, in about the time gzip takes. That brings the bench's delivery record from 2.4 KB
 * to 1.6: one write unit less at the ack and one less when it is finished (docs/deploy-aws.md).
 *
 * Each dictionary is a payload of its tool whose owner, repository and site names were replaced by
 * neutral ones (`store/body-dictionaries/`): GitHub's `milestone.created` example, a Jira Cloud
 * `comment_created` delivery. Its bytes are part of every body compressed with it, so a dictionary
 * never changes: a better one gets a new name, and records name theirs (`bodyEncoding`). Records
 * without one are gzip, as every body was before, and so is mail, whose bodies share little shape.
 */

/** A dictionary's bytes: its JSON in compact form, as payloads arrive. */
const bytesOf = (shape: unknown) => Buffer.from(JSON.stringify(shape));

export const BODY_DICTIONARIES = {
  'github-1': bytesOf(githubShape),
  'jira-1': bytesOf(jiraShape),
} as const;

type DictionaryName = keyof typeof BODY_DICTIONARIES;

/** The dictionary new bodies of each source are compressed with. */
const CURRENT: Partial<Record<string, DictionaryName>> = { github: 'github-1', jira: 'jira-1' };

const PREFIX = 'deflate-raw:';

export interface EncodedBody {
  compressed: Buffer;
  /** `deflate-raw:{dictionary}`; absent for gzip */
  encoding?: string;
}

export const encodeBody = (source: string, body: Uint8Array): EncodedBody => {
  const name = Object.hasOwn(CURRENT, source) ? CURRENT[source] : undefined;
  return name ? { compressed: deflateRawSync(body, { dictionary: BODY_DICTIONARIES[name] }), encoding: `${PREFIX}${name}` } : { compressed: gzipSync(body) };
};

/** A stored body this version cannot read: an encoding it does not know (written by a newer one), or bytes that do not decompress. */
export class UnreadableBodyError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnreadableBodyError';
  }
}

/** The body a record stored `compressed` with `encoding` (its `bodyEncoding` attribute, absent for gzip). */
export const decodeBody = (compressed: Uint8Array, encoding: unknown): Buffer => {
  const name = typeof encoding === 'string' && encoding.startsWith(PREFIX) ? encoding.slice(PREFIX.length) : '';
  const known = encoding === undefined || encoding === null || Object.hasOwn(BODY_DICTIONARIES, name);
  if (!known) throw new UnreadableBodyError(`The stored body is encoded as ${String(encoding)}, which this version of Tributary cannot read: upgrade it, then retry the delivery.`);
  try {
    return name ? inflateRawSync(compressed, { dictionary: BODY_DICTIONARIES[name as DictionaryName] }) : gunzipSync(compressed);
  } catch (error) {
    throw new UnreadableBodyError(`The stored body does not decompress (${(error as Error).message}); the record is damaged.`, { cause: error });
  }
};
