import { reencodeEncodedWords } from './encoded-words.ts';
import { type HeaderField, headerValue } from './header-section.ts';
import { loadMimeParser } from './mime-parser.ts';

/** A mailbox of an address header: `"Ana Lima" <ana@example.com>` → name and lowercased address. */
export interface Mailbox {
  name?: string;
  address: string;
}

/** Lowercased: the local part is case-sensitive in theory (RFC 5321 §2.4), never in practice. */
export const normalizeAddress = (address: string): string => address.trim().toLowerCase();

/**
 * The address postal-mime found, lowercased, or undefined when it is not one: a local part and a
 * domain without whitespace or brackets (a domain literal `[192.0.2.1]` is fine).
 */
const usableAddress = (found: string | undefined): string | undefined => {
  const address = (found ?? '').trim();
  const at = address.lastIndexOf('@');
  if (at <= 0 || /[\r\n<>]/.test(address)) return undefined;
  return /^(?:[^\s"(),:;<>@[\\\]]+|\[[^\s[\\\]]+\])$/.test(address.slice(at + 1)) ? normalizeAddress(address) : undefined;
};

/**
 * Parses an address list (RFC 5322 §3.4, RFC 6532) with postal-mime's addressParser: display names
 * (quoted, with encoded words, or none), angle addresses, bare addresses, a name and an address
 * without angle brackets (`Big Bug bb@bug.com`), comments (`bb@bug.com (Big Bug)`, RFC 5322 A.5),
 * obsolete routes and spacing, groups (`team: a@x, b@x;`, flattened). Entries without a usable
 * address are skipped.
 *
 * Its encoded words are decoded first (encoded-words.ts) and handed over as one UTF-8 word per run:
 * postal-mime garbles a character split between two words (docs/postal-mime-corrections.md).
 */
export async function parseAddressList(value: string | undefined): Promise<Mailbox[]> {
  if (!value?.trim()) return [];
  const { addressParser } = await loadMimeParser();
  return addressParser(reencodeEncodedWords(value), { flatten: true }).flatMap((entry) => {
    const address = usableAddress(entry.address);
    if (!address) return [];
    const name = entry.name.replace(/\s+/g, ' ').trim();
    return [{ ...(name ? { name } : {}), address }];
  });
}

/**
 * Who sent a message: the From mailbox; when From lists several authors, the Sender they must then
 * name (RFC 5322 §3.6.2), or the first of them; when From names nobody usable, the Sender.
 */
export async function senderOf(headers: readonly HeaderField[]): Promise<Mailbox | undefined> {
  const from = await parseAddressList(headerValue(headers, 'from'));
  const sender = (await parseAddressList(headerValue(headers, 'sender')))[0];
  return (from.length > 1 ? sender : undefined) ?? from[0] ?? sender;
}

/** Why a message has no sender ({@link senderOf} found none), for the delivery's ignored reason. */
export function whyNoSender(headers: readonly HeaderField[]): string {
  const shown = (name: string) => JSON.stringify(headerValue(headers, name)!.slice(0, 100));
  const from = headerValue(headers, 'from') === undefined ? 'it has no From header' : `its From header (${shown('from')}) names no address`;
  return headerValue(headers, 'sender') === undefined ? `${from} and no Sender` : `${from}, nor does its Sender (${shown('sender')})`;
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
