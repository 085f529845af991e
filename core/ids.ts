import { createHash, randomBytes } from 'node:crypto';

/** Lowercase base32 (RFC 4648 alphabet) keeps ids URL- and key-safe. */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

const base32 = (bytes: Uint8Array, length: number): string => {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= length) break;
  }
  return out;
};

export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** A deterministic id: the same input always gives the same id, which makes every write idempotent. */
export const deterministicId = (prefix: string, ...parts: string[]): string =>
  `${prefix}_${base32(createHash('sha256').update(parts.join('\u0000')).digest(), 24)}`;

/** A random id, for things users create (tenants, connections, tokens). */
export const randomId = (prefix: string): string => `${prefix}_${base32(randomBytes(15), 24)}`;

/** A secret string with 256 bits of entropy. */
export const randomSecret = (prefix: string): string => `${prefix}_${randomBytes(32).toString('base64url')}`;

/** Work item ids derive from the cross-tool ref, so a link can name its target before the target is indexed. */
export const itemIdForRef = (ref: string): string => deterministicId('wi', ref);

/** Person ids derive from the first identity seen (`github:583231`). */
export const personIdFor = (identityKey: string): string => deterministicId('p', identityKey);
