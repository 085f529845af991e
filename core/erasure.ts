import type { ItemChange } from './changes.ts';
import { sha256Hex } from './ids.ts';
import type { Commit, Development, Person, WorkItem } from './work-item.ts';

/**
 * Erasure of a person (`DELETE /v1/people/{id}`), the pure part: what an erased person becomes, how
 * an identifier is recognized later without being stored in clear, and how a document that names
 * the person is rewritten. A pseudonym is `erased-<16 hex>`; it replaces the person everywhere, so
 * the work history (who owned what, counts per owner) stays consistent without naming anyone.
 */

const PSEUDONYM = /^erased-[0-9a-f]{16}$/;
/** a pseudonym, its email form, or the id of its person, as found in a document or a payload */
const PSEUDONYM_FORMS = /^(?:p_)?(erased)[-_]([0-9a-f]{16})(?:@erased\.invalid)?$/i;
const EMAIL = /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/;
/**
 * Addresses in free text. A match starts only where the local part does: without the lookbehind, a
 * long run of letters without `@` (a title of half a megabyte) is scanned again from each of its
 * characters, quadratic time on the processor's one thread.
 */
const EMAILS_IN_TEXT = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
/** `@login` mentions, as GitHub and Jira render them; not the domain part of an address */
const MENTIONS_IN_TEXT = /(?<![\w.@-])@([A-Za-z0-9][A-Za-z0-9_-]*)/g;

export const isPseudonym = (value: string): boolean => PSEUDONYM.test(value);
export const pseudonymEmail = (pseudonym: string): string => `${pseudonym}@erased.invalid`;
/** A number standing for an erased account id in a rewritten payload (tools with numeric ids need one). */
export const pseudonymNumber = (pseudonym: string): number => Number.parseInt(pseudonym.slice(-12), 16);

/** The person an erased person becomes: no handle, no address, a name that says what happened. */
export const erasedPerson = (pseudonym: string): Person => ({ id: `p_${pseudonym.replace('-', '_')}`, name: pseudonym, handles: [], emails: [] });

/** Every identifier a person is recognized by, lowercased: id, `source:handle`, `source#externalId`, addresses. */
export const personIdentifiers = (person: Person): string[] => [
  ...new Set(
    [
      person.id,
      ...person.handles.flatMap((h) => [`${h.source}:${h.handle}`, ...(h.externalId ? [`${h.source}#${h.externalId}`] : [])]),
      ...person.emails,
    ].map((value) => value.toLowerCase()),
  ),
];

/**
 * What the tombstone stores for an identifier: a tenant-salted SHA-256, never the identifier. It lets
 * a later delivery be recognized; it cannot be listed back into identifiers (a guess can be checked).
 */
export const identifierHash = (tenantId: string, identifier: string): string => sha256Hex(`${tenantId}\u0000${identifier.toLowerCase()}`);

/** hash → pseudonym, from the tenant's tombstone */
export type TombstoneLookup = (hash: string) => string | undefined;

const pseudonymInForms = (values: readonly (string | undefined)[]): string | undefined => {
  for (const value of values) {
    const match = value ? PSEUDONYM_FORMS.exec(value) : null;
    if (match) return `erased-${match[2]!.toLowerCase()}`;
  }
  return undefined;
};

/**
 * The pseudonym of a person: one it already carries (a payload rewritten by an erasure, replayed),
 * else the tombstone's for any of its identifiers; undefined when the person was never erased.
 */
export const pseudonymOf = (tenantId: string, person: Person, lookup: TombstoneLookup): string | undefined =>
  pseudonymInForms([person.id, person.name, ...person.handles.map((h) => h.handle), ...person.emails]) ??
  personIdentifiers(person)
    .map((identifier) => lookup(identifierHash(tenantId, identifier)))
    .find((pseudonym) => pseudonym !== undefined);

const dedupeById = (people: Person[]): Person[] => [...new Map(people.map((p) => [p.id, p])).values()];

/** Finds `@login` mentions and addresses in free text and replaces those `resolve` names. */
const replaceMentions = (text: string, resolve: (kind: 'handle' | 'email', value: string) => string | undefined): string =>
  text
    .replace(EMAILS_IN_TEXT, (email) => {
      const pseudonym = resolve('email', email);
      return pseudonym ? pseudonymEmail(pseudonym) : email;
    })
    .replace(MENTIONS_IN_TEXT, (mention, handle: string) => {
      const pseudonym = resolve('handle', handle);
      return pseudonym ? `@${pseudonym}` : mention;
    });

/** A person as a delivery names them, with the pseudonym it maps to (`viaTombstone`: the identifiers came in clear). */
export interface Pseudonymized {
  changes: ItemChange[];
  /** people of the delivery recognized by the tombstone: their identifiers are in the delivery's body */
  recognized: { person: Person; pseudonym: string }[];
}

/** A commit's author as the person the tombstone knows: by their GitHub login (a name alone is no identifier). */
const commitAuthorOf = (commit: Commit): Person | undefined =>
  commit.author.login
    ? { id: `github:${commit.author.login}`, ...(commit.author.name ? { name: commit.author.name } : {}), handles: [{ source: 'github', handle: commit.author.login }], emails: [] }
    : undefined;

/**
 * Replaces erased people in a delivery's changes (owners, requester, `@mentions` and addresses in
 * titles, commit authors and messages) by their pseudonyms, so a delivery arriving after the
 * erasure, or replayed, writes the same pseudonymized state as the erasure did.
 */
export const pseudonymizeChanges = (tenantId: string, changes: readonly ItemChange[], lookup: TombstoneLookup): Pseudonymized => {
  const recognized = new Map<string, { person: Person; pseudonym: string }>();
  const swap = (person: Person): Person => {
    const pseudonym = pseudonymOf(tenantId, person, lookup);
    if (!pseudonym) return person;
    if (!pseudonymInForms([person.id, person.name, ...person.handles.map((h) => h.handle), ...person.emails])) recognized.set(person.id, { person, pseudonym });
    return erasedPerson(pseudonym);
  };
  const out = changes.map((change): ItemChange => {
    if (change.op === 'development') {
      const commits = change.commits.map((commit): Commit => {
        const author = commitAuthorOf(commit);
        const swapped = author ? swap(author) : undefined;
        const message = replaceMentions(commit.message, (kind, value) => lookup(identifierHash(tenantId, kind === 'email' ? value : `github:${value}`)));
        return { ...commit, message, ...(swapped && swapped !== author ? { author: { name: swapped.name! } } : {}) };
      });
      return { ...change, commits };
    }
    if (change.op !== 'upsert') return change;
    const { item } = change;
    const title = replaceMentions(item.title, (kind, value) =>
      lookup(identifierHash(tenantId, kind === 'email' ? value : `${item.source}:${value}`)),
    );
    return {
      ...change,
      item: {
        ...item,
        title,
        owners: dedupeById(item.owners.map(swap)),
        ...(item.requester ? { requester: swap(item.requester) } : {}),
      },
    };
  });
  return { changes: out, recognized: [...recognized.values()] };
};

/** Every hash a delivery's changes could be recognized by: what to look up in the tombstone, once. */
export const candidateHashes = (tenantId: string, changes: readonly ItemChange[]): string[] => {
  const hashes = new Set<string>();
  for (const change of changes) {
    if (change.op === 'development') {
      for (const commit of change.commits) {
        const author = commitAuthorOf(commit);
        for (const identifier of author ? personIdentifiers(author) : []) hashes.add(identifierHash(tenantId, identifier));
        for (const email of commit.message.match(EMAILS_IN_TEXT) ?? []) hashes.add(identifierHash(tenantId, email));
        for (const [, handle] of commit.message.matchAll(MENTIONS_IN_TEXT)) hashes.add(identifierHash(tenantId, `github:${handle}`));
      }
    }
    if (change.op !== 'upsert') continue;
    const { item } = change;
    for (const person of [...item.owners, ...(item.requester ? [item.requester] : [])]) {
      for (const identifier of personIdentifiers(person)) hashes.add(identifierHash(tenantId, identifier));
    }
    for (const email of item.title.match(EMAILS_IN_TEXT) ?? []) hashes.add(identifierHash(tenantId, email));
    for (const [, handle] of item.title.matchAll(MENTIONS_IN_TEXT)) hashes.add(identifierHash(tenantId, `${item.source}:${handle}`));
  }
  return [...hashes];
};

/**
 * The identifiers of erased people in clear, held in memory only while a document is rewritten:
 * from the person records during an erasure, from the delivery itself for a later one.
 */
export interface ErasureTerms {
  tenantId: string;
  /** lowercase identifier value (login, account id, address, profile URL, person id, `source:handle`) → pseudonym */
  values: Map<string, string>;
  /** display names → pseudonym, replaced in alert messages and as whole values */
  names: Map<string, string>;
  /** the tombstone hashes of these people → pseudonym, for person objects of the index */
  hashes: Map<string, string>;
}

/** Terms of people to erase, each with their pseudonym. */
export const termsOf = (tenantId: string, people: readonly { person: Person; pseudonym: string }[]): ErasureTerms => {
  const terms: ErasureTerms = { tenantId, values: new Map(), names: new Map(), hashes: new Map() };
  const add = (value: string | undefined, pseudonym: string) => {
    // Short or purely numeric values would match unrelated text; numeric ids are rewritten in account objects.
    if (value && value.length >= 3 && !/^\d+$/.test(value)) terms.values.set(value.toLowerCase(), pseudonym);
  };
  for (const { person, pseudonym } of people) {
    add(person.id, pseudonym);
    for (const handle of person.handles) {
      add(handle.handle, pseudonym);
      add(`${handle.source}:${handle.handle}`, pseudonym);
      add(handle.externalId, pseudonym);
      add(handle.url, pseudonym);
    }
    for (const email of person.emails) add(email, pseudonym);
    if (person.name && person.name.length >= 3) terms.names.set(person.name.toLowerCase(), pseudonym);
    for (const identifier of personIdentifiers(person)) terms.hashes.set(identifierHash(tenantId, identifier), pseudonym);
  }
  return terms;
};

/** Whether a text (a stored document, a body) may name one of the people: a cheap filter before parsing. */
export const mayMention = (terms: ErasureTerms, text: string): boolean => {
  const lower = text.toLowerCase();
  for (const value of terms.values.keys()) if (lower.includes(value)) return true;
  for (const name of terms.names.keys()) if (lower.includes(name)) return true;
  return false;
};

const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The replacement of a whole value naming a person: an address stays an address, a person id stays a person id. */
const replacementFor = (value: string, pseudonym: string): string =>
  EMAIL.test(value) ? pseudonymEmail(pseudonym) : value.startsWith('p_') ? erasedPerson(pseudonym).id : pseudonym;

const resolveTerm = (terms: ErasureTerms) => (_kind: 'handle' | 'email', value: string) => terms.values.get(value.toLowerCase());

/** A display name distinctive enough to replace in free text: a full name, or one long word ("Admin" is not). */
const distinctiveName = (name: string) => name.includes(' ') || name.length >= 6;

/**
 * Free text: addresses, `@mentions` and distinctive display names; with `logins`, also bare logins
 * as whole words (alert messages say "owned by octocat"). A value that is exactly an identifier is
 * replaced whole.
 */
export const scrubText = (text: string, terms: ErasureTerms, options: { logins?: boolean } = {}): string => {
  const exact = terms.values.get(text.toLowerCase()) ?? terms.names.get(text.toLowerCase());
  if (exact) return replacementFor(text, exact);
  let out = replaceMentions(text, resolveTerm(terms));
  const words = [
    ...[...terms.names].filter(([name]) => distinctiveName(name)),
    ...(options.logins ? [...terms.values].filter(([value]) => !value.includes(':') && !value.includes('/') && !EMAIL.test(value)) : []),
  ];
  for (const [word, pseudonym] of words.sort((a, b) => b[0].length - a[0].length)) {
    out = out.replace(new RegExp(`(?<![\\w@-])${escapeRegExp(word)}(?![\\w-])`, 'gi'), pseudonym);
  }
  return out;
};

/** Keys whose value names a work item, never a person: rewriting them would change an item's identity. */
const STRUCTURAL_KEYS = new Set(['ref', 'target', 'subject', 'movedTo', 'aliases']);
/** Free-text keys where a bare login can appear (alert messages). */
const NAMED_TEXT_KEYS = new Set(['message']);
/** Keys of a tool's account object that say what kind of account it is, not whose. */
const ACCOUNT_KIND_KEYS = new Set(['type', 'user_view_type', 'accountType', 'timeZone', 'locale', 'site_admin', 'active']);

const isPersonShaped = (value: Record<string, unknown>): boolean =>
  typeof value.id === 'string' && Array.isArray(value.handles) && Array.isArray(value.emails);

/** A tool's account object (`user`, `assignee`, `author`…): one of its own string values is an identifier of the person. */
const accountPseudonym = (value: Record<string, unknown>, terms: ErasureTerms): string | undefined => {
  for (const [key, field] of Object.entries(value)) {
    if (typeof field !== 'string' || STRUCTURAL_KEYS.has(key)) continue;
    const pseudonym = terms.values.get(field.toLowerCase());
    if (pseudonym) return pseudonym;
  }
  return undefined;
};

const scrubAccount = (value: unknown, pseudonym: string, key?: string): unknown => {
  if (Array.isArray(value)) return value.map((v) => scrubAccount(v, pseudonym));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubAccount(v, pseudonym, k)]));
  }
  if (key && ACCOUNT_KIND_KEYS.has(key)) return value;
  if (typeof value === 'string') return value === '' ? value : EMAIL.test(value) ? pseudonymEmail(pseudonym) : pseudonym;
  if (typeof value === 'number' && key === 'id') return pseudonymNumber(pseudonym);
  return value;
};

/**
 * Rewrites any JSON document (a webhook body, an event, an alert) so it no longer names the people:
 * person objects of the index become the erased person; a tool's account objects naming them have
 * every value replaced (login, ids, avatar and profile URLs, names), keeping their shape so the
 * connector still reads the payload on a replay; addresses and `@mentions` in text are replaced.
 * Refs and keys of items are left alone: they name work, and an item's id derives from its ref.
 */
export const scrubJson = (value: unknown, terms: ErasureTerms, key?: string): unknown => {
  if (Array.isArray(value)) return value.map((v) => scrubJson(v, terms, key));
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (isPersonShaped(record)) {
      const pseudonym = pseudonymOf(terms.tenantId, record as unknown as Person, (hash) => terms.hashes.get(hash));
      if (pseudonym) return erasedPerson(pseudonym);
    }
    const account = accountPseudonym(record, terms);
    if (account) return scrubAccount(record, account);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, scrubJson(v, terms, k)]));
  }
  if (typeof value === 'string' && !(key && STRUCTURAL_KEYS.has(key))) return scrubText(value, terms, { logins: key !== undefined && NAMED_TEXT_KEYS.has(key) });
  return value;
};

/**
 * The item without the people: owners and requester become the erased person; `@mentions`,
 * addresses and display names in the title their pseudonym, as in the rewritten raw body, so a
 * replay gives the same title.
 * Its version moves on, so consumers and the counters see a new state.
 */
export const scrubItem = (item: WorkItem, terms: ErasureTerms): WorkItem | undefined => {
  const lookup = (hash: string) => terms.hashes.get(hash);
  const swap = (person: Person): Person => {
    const pseudonym = pseudonymOf(terms.tenantId, person, lookup);
    return pseudonym ? erasedPerson(pseudonym) : person;
  };
  const next: WorkItem = {
    ...item,
    title: scrubText(item.title, terms),
    owners: dedupeById(item.owners.map(swap)),
    ...(item.requester ? { requester: swap(item.requester) } : {}),
    // Commit authors are a tool's account objects (`{name, login}`), messages free text.
    ...(item.development ? { development: scrubJson(item.development, terms) as Development } : {}),
  };
  if (JSON.stringify(next) === JSON.stringify(item)) return undefined;
  return { ...next, version: item.version + 1 };
};

/** A raw body (JSON, or text such as a MIME message) without the people; undefined when it does not name them. */
export const scrubBody = (body: string, terms: ErasureTerms): string | undefined => {
  if (!mayMention(terms, body)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    const text = scrubText(body, terms, { logins: true });
    return text === body ? undefined : text;
  }
  const next = JSON.stringify(scrubJson(parsed, terms));
  return next === JSON.stringify(parsed) ? undefined : next;
};
