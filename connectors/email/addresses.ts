import { decodeEncodedWords } from './mime.ts';

/** A mailbox of an address header: `"Ana Lima" <ana@example.com>` → name and lowercased address. */
export interface Mailbox {
  name?: string;
  address: string;
}

const ADDRESS = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+$/;

/** Lowercased: the local part is case-sensitive in theory (RFC 5321 §2.4), never in practice. */
export const normalizeAddress = (address: string): string => address.trim().toLowerCase();

/**
 * Parses an address list (RFC 5322 §3.4): display names (quoted, with encoded words), angle
 * addresses, bare addresses, groups (`team: a@x, b@x;`) and comments. Entries without a usable
 * address are skipped.
 */
export function parseAddressList(value: string | undefined): Mailbox[] {
  if (!value) return [];
  const entries: string[] = [];
  let current = '';
  let quoted = false;
  let angle = false;
  let comment = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && (quoted || comment > 0)) {
      current += c + (value[++i] ?? '');
      continue;
    }
    if (!quoted && c === '(') comment++;
    else if (!quoted && c === ')' && comment > 0) comment--;
    else if (comment === 0 && c === '"') quoted = !quoted;
    else if (comment === 0 && !quoted && c === '<') angle = true;
    else if (comment === 0 && !quoted && c === '>') angle = false;
    if (comment === 0 && !quoted && !angle && (c === ',' || c === ';')) {
      entries.push(current);
      current = '';
    } else if (comment === 0 && !quoted && !angle && c === ':') {
      // A group's display name: its members follow.
      current = '';
    } else {
      current += c;
    }
  }
  entries.push(current);
  return entries.flatMap((entry) => {
    const mailbox = parseMailbox(entry);
    return mailbox ? [mailbox] : [];
  });
}

const unquote = (text: string): string =>
  text.trim().replace(/^"([\s\S]*)"$/, '$1').replace(/\\(.)/g, '$1').trim();

function parseMailbox(entry: string): Mailbox | undefined {
  const withoutComments = entry.replace(/\((?:[^()\\]|\\.)*\)/g, ' ');
  const angle = /<([^<>]*)>/.exec(withoutComments);
  if (angle) {
    const address = angle[1]!.replace(/^@[^:]*:/, '').trim(); // obsolete source routes
    if (!ADDRESS.test(address)) return undefined;
    const name = decodeEncodedWords(unquote(withoutComments.slice(0, angle.index)));
    return { ...(name ? { name } : {}), address: normalizeAddress(address) };
  }
  const bare = withoutComments.trim();
  if (!ADDRESS.test(bare)) return undefined;
  // `ana@example.com (Ana Lima)`: an old form that names the person in a comment.
  const named = /\(([^()]*)\)/.exec(entry);
  const name = named ? decodeEncodedWords(named[1]!.trim()) : '';
  return { ...(name ? { name } : {}), address: normalizeAddress(bare) };
}

/** Splits an address into local part, plus-tag and domain: `platform+urgent@acme.example`. */
export function splitAddress(address: string): { local: string; tag?: string; domain: string } {
  const at = address.lastIndexOf('@');
  const localPart = address.slice(0, at);
  const domain = address.slice(at + 1).toLowerCase();
  const plus = localPart.indexOf('+');
  return plus > 0 ? { local: localPart.slice(0, plus), tag: localPart.slice(plus + 1), domain } : { local: localPart, domain };
}

/** The address without its plus-tag: `platform+urgent@acme.example` → `platform@acme.example`. */
export const withoutTag = (address: string): string => {
  const { local, domain } = splitAddress(address);
  return `${local}@${domain}`;
};

/**
 * Message ids of `Message-ID`, `In-Reply-To` and `References` (RFC 5322 §3.6.4), without angle
 * brackets, in order. Clients that drop the brackets are tolerated.
 */
export function parseMessageIds(value: string | undefined): string[] {
  if (!value) return [];
  const bracketed = [...value.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1]!);
  if (bracketed.length > 0) return bracketed;
  return value
    .split(/[\s,]+/)
    .map((token) => token.replace(/^<|>$/g, ''))
    .filter((token) => token.includes('@'));
}
