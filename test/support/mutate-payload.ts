import { createHash } from 'node:crypto';
import { seededRandom } from '../fixtures/work-items.ts';

/** A real payload to mutate, with how its tool delivers it. */
export interface PayloadSample {
  /** the connection it is posted to: `github`, `jira`, `email-raw`, `email-postmark`, `email-sendgrid` */
  family: string;
  /** the fixture it comes from, for failure reports */
  name: string;
  body: Uint8Array;
  contentType: string;
  /** how its bytes are structured: JSON, a MIME message, or a multipart/form-data post */
  format: 'json' | 'mime' | 'multipart';
  /** GitHub's `X-GitHub-Event` */
  event?: string;
}

export interface MutatedPayload {
  index: number;
  sample: PayloadSample;
  /** what was done, e.g. `wrong-type issue.user.login → 42` */
  mutation: string;
  body: Uint8Array;
  /** `undefined`: no Content-Type header at all */
  contentType: string | undefined;
  event?: string;
}

type Random = () => number;
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const encoder = new TextEncoder();
const pick = <T>(random: Random, values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
const between = (random: Random, min: number, max: number) => min + Math.floor(random() * (max - min + 1));

/**
 * A PRNG for mutation `index` of a run with `seed`: each mutation can be reproduced on its own
 * (`FAULT_SEED=<seed> FAULT_ONLY=<index>`), without generating the ones before it.
 */
export const mutationRandom = (seed: number, index: number): Random =>
  seededRandom(createHash('sha256').update(`${seed}:${index}`).digest().readUInt32LE(0));

/** Every path to a value in a JSON document (objects and arrays included), breadth first, at most `limit`. */
const pathsOf = (root: Json, limit = 4000): (string | number)[][] => {
  const paths: (string | number)[][] = [[]];
  for (let i = 0; i < paths.length && paths.length < limit; i++) {
    const value = getAt(root, paths[i]!);
    if (Array.isArray(value)) value.forEach((_, k) => paths.push([...paths[i]!, k]));
    else if (value && typeof value === 'object') Object.keys(value).forEach((k) => paths.push([...paths[i]!, k]));
  }
  return paths;
};

const getAt = (root: Json, path: readonly (string | number)[]): Json => path.reduce<Json>((node, key) => (node as any)?.[key], root);

const setAt = (root: Json, path: readonly (string | number)[], value: Json | undefined): Json => {
  if (path.length === 0) return value ?? null;
  const parent = getAt(root, path.slice(0, -1)) as any;
  const key = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else {
    parent[key] = value;
  }
  return root;
};

const label = (path: readonly (string | number)[]) => (path.length ? path.join('.') : '(root)');

/** A value of another JSON type than `current`. */
const otherTyped = (random: Random, current: Json): Json => {
  const candidates: Json[] = [
    0,
    -1,
    42,
    1.5,
    1e308,
    -9_007_199_254_740_993,
    '',
    'not-the-right-type',
    '2024-13-45T99:99:99Z',
    null,
    true,
    false,
    [],
    [null],
    {},
    { unexpected: { nested: [1, 'two', null] } },
  ];
  const typeOf = (v: Json) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  const others = candidates.filter((c) => typeOf(c) !== typeOf(current));
  return pick(random, others);
};

const ODD_STRINGS = [
  '\u0000',
  '\ud800',
  '\udfff lone low surrogate',
  '\u202e RTL override',
  '\ufeffBOM first',
  'e\u0301\u0301\u0301 combining',
  '👩‍👩‍👧‍👦 family emoji',
  '<script>alert(1)</script>',
  '"quoted" \\ back\\slash',
  '%00%ff%zz',
  '\r\n\r\nHeader-Injection: yes',
  'ACME-1 UTF-8 closes #0 blocked by #-1',
  ' '.repeat(10_000),
];

/** A string of `length` characters: repeated (compressible) or random (not). */
const bigString = (random: Random, length: number, incompressible: boolean): string => {
  if (!incompressible) {
    const chunk = Array.from({ length: 64 }, () => String.fromCharCode(between(random, 0x20, 0x7e))).join('') + 'é漢🙂';
    return chunk.repeat(Math.ceil(length / chunk.length)).slice(0, length);
  }
  const bytes = new Uint8Array(Math.ceil((length * 3) / 16) * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < bytes.length; i += 4) view.setUint32(i, Math.floor(random() * 2 ** 32), true);
  return Buffer.from(bytes).toString('base64').slice(0, length);
};

/**
 * Replaces the first `marker` with `value` taken literally. A string replacement would expand `$'`,
 * `$\`` and `$&` in the value, and a random megabyte string holds them: the body then grows to
 * hundreds of megabytes and stalls the event loop the hub shares with this test for seconds.
 */
export const splice = (text: string, marker: string, value: string): string => text.replace(marker, () => value);

const nested = (depth: number, inner: Json, asObject: boolean): string => {
  const open = asObject ? '{"a":' : '[';
  const close = asObject ? '}' : ']';
  return open.repeat(depth) + JSON.stringify(inner) + close.repeat(depth);
};

/** Structural mutations of a JSON payload: the document still parses (mostly), its content is wrong. */
const JSON_MUTATIONS: Record<string, (random: Random, doc: Json, text: string) => { text: string; what: string }> = {
  'wrong-type': (random, doc) => {
    const path = pick(random, pathsOf(doc).slice(1));
    const value = otherTyped(random, getAt(doc, path));
    return { text: JSON.stringify(setAt(doc, path, value)), what: `${label(path)} → ${JSON.stringify(value)}` };
  },
  'missing-field': (random, doc) => {
    const path = pick(random, pathsOf(doc).slice(1));
    return { text: JSON.stringify(setAt(doc, path, undefined)), what: label(path) };
  },
  'huge-string': (random, doc) => {
    const strings = pathsOf(doc).filter((p) => typeof getAt(doc, p) === 'string');
    const path = strings.length ? pick(random, strings) : ['huge'];
    // Mostly up to 32 KB; now and then over the 1 MB body limit the case sets, or incompressible
    // and over 400 KB compressed, so the inbox stores the body in parts.
    const roll = random();
    const length = roll < 0.02 ? between(random, 1_050_000, 1_200_000) : roll < 0.05 ? between(random, 420_000, 600_000) : between(random, 1_000, 32_000);
    const incompressible = roll >= 0.02 && roll < 0.05;
    // Spliced in as text: stringifying the document around a megabyte string costs more than the rest of the run.
    const text = splice(JSON.stringify(setAt(doc, path, '__huge__')), '"__huge__"', JSON.stringify(bigString(random, length, incompressible)));
    return { text, what: `${label(path)} (${length} chars${incompressible ? ', incompressible' : ''})` };
  },
  'deep-nesting': (random, doc) => {
    const paths = pathsOf(doc);
    const path = pick(random, paths);
    const depth = pick(random, [64, 64, 1_000, 1_000, 1_000, 10_000, 10_000, 100_000]);
    const marker = '"__deep__"';
    const text = splice(JSON.stringify(setAt(doc, path, '__deep__')), marker, nested(depth, 'bottom', random() < 0.5));
    return { text, what: `${label(path)} nested ${depth} deep` };
  },
  'odd-unicode': (random, doc) => {
    const strings = pathsOf(doc).filter((p) => typeof getAt(doc, p) === 'string');
    if (!strings.length) return { text: JSON.stringify(doc), what: 'no strings' };
    const path = pick(random, strings);
    const value = pick(random, ODD_STRINGS);
    return { text: JSON.stringify(setAt(doc, path, value)), what: `${label(path)} → ${JSON.stringify(value).slice(0, 40)}` };
  },
  'prototype-keys': (random, doc) => {
    const objects = pathsOf(doc).filter((p) => {
      const v = getAt(doc, p);
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    });
    const path = pick(random, objects);
    const key = pick(random, ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty']);
    const text = JSON.stringify(doc);
    const at = JSON.stringify(getAt(doc, path));
    // Written as text: JSON.stringify drops a `__proto__` own key.
    const injected = `{"${key}":{"polluted":true,"isAdmin":true},${at.slice(1)}`;
    return { text: at === '{}' ? text : splice(text, at, injected), what: `${key} in ${label(path)}` };
  },
  'duplicate-keys': (random, doc) => {
    const objects = pathsOf(doc).filter((p) => {
      const v = getAt(doc, p);
      return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0;
    });
    const path = pick(random, objects);
    const object = getAt(doc, path) as Record<string, Json>;
    const key = pick(random, Object.keys(object));
    const at = JSON.stringify(object);
    return { text: splice(JSON.stringify(doc), at, `${at.slice(0, -1)},${JSON.stringify(key)}:${JSON.stringify(otherTyped(random, object[key]!))}}`), what: `${label(path)}.${key} twice` };
  },
  'odd-numbers': (random, doc) => {
    const numbers = pathsOf(doc).filter((p) => typeof getAt(doc, p) === 'number');
    const path = numbers.length ? pick(random, numbers) : ['n'];
    const literal = pick(random, ['1e999', '-1e999', '-0', '9007199254740993', '0.0000000000000000000000001', '1E+400', '123456789012345678901234567890']);
    const text = splice(JSON.stringify(setAt(doc, path, '__n__')), '"__n__"', literal);
    return { text, what: `${label(path)} → ${literal}` };
  },
  'other-root': (random) => {
    const root = pick(random, ['[]', '[{"action":"opened"}]', '"a string"', '42', 'null', 'true', '{}', '{"action":null}']);
    return { text: root, what: root };
  },
  'swap-subtrees': (random, doc) => {
    const paths = pathsOf(doc).slice(1);
    const a = pick(random, paths);
    const b = pick(random, paths);
    const value = structuredClone(getAt(doc, b));
    const isAncestor = b.length >= a.length && a.every((k, i) => b[i] === k);
    return { text: JSON.stringify(isAncestor ? doc : setAt(doc, a, value)), what: `${label(a)} ← ${label(b)}` };
  },
};

/** Mutations of the bytes, whatever the format: what proxies, truncating clients and bad encoders do. */
const BYTE_MUTATIONS: Record<string, (random: Random, body: Uint8Array) => { body: Uint8Array; what: string }> = {
  truncate: (random, body) => {
    const at = Math.floor(random() * body.length);
    return { body: body.slice(0, at), what: `at byte ${at} of ${body.length}` };
  },
  'invalid-utf8': (random, body) => {
    const bad = pick(random, [[0xff], [0xfe, 0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]]);
    const at = Math.floor(random() * body.length);
    return { body: Buffer.concat([body.subarray(0, at), Uint8Array.from(bad), body.subarray(at)]), what: `${bad.map((b) => b.toString(16)).join(' ')} at byte ${at}` };
  },
  'flip-bytes': (random, body) => {
    const out = Uint8Array.from(body);
    const flips = between(random, 1, 8);
    for (let i = 0; i < flips; i++) {
      const at = Math.floor(random() * out.length);
      out[at] = out[at]! ^ (1 << between(random, 0, 7));
    }
    return { body: out, what: `${flips} bits` };
  },
  'repeat-slice': (random, body) => {
    const from = Math.floor(random() * body.length);
    const to = Math.min(body.length, from + between(random, 1, 2_000));
    return { body: Buffer.concat([body.subarray(0, to), body.subarray(from, to), body.subarray(to)]), what: `bytes ${from}–${to}` };
  },
  empty: () => ({ body: new Uint8Array(0), what: 'no body' }),
  garbage: (random) => {
    const out = new Uint8Array(between(random, 1, 4_096));
    for (let i = 0; i < out.length; i++) out[i] = Math.floor(random() * 256);
    return { body: out, what: `${out.length} random bytes` };
  },
};

/** Mutations that know MIME: what broken mail servers and forwarders produce. */
const MIME_MUTATIONS: Record<string, (random: Random, text: string) => { text: string; what: string }> = {
  'no-message-id': (_random, text) => ({ text: text.replace(/^Message-ID:.*\r?\n/im, ''), what: 'Message-ID removed' }),
  'huge-header': (random, text) => {
    const length = between(random, 10_000, 500_000);
    return { text: `X-Huge: ${'a'.repeat(length)}\r\n${text}`, what: `${length} characters` };
  },
  'many-headers': (random, text) => {
    const count = between(random, 1_000, 20_000);
    return { text: `${Array.from({ length: count }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n${text}`, what: `${count} headers` };
  },
  'deep-multipart': (random) => {
    const depth = pick(random, [50, 500, 5_000]);
    let body = 'Content-Type: text/plain\r\n\r\nbottom\r\n';
    for (let i = depth; i > 0; i--) body = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${body}--b${i}--\r\n`;
    return { text: `Message-ID: <deep-${depth}@faults.example>\r\nFrom: a@b.example\r\nTo: platform@acme.example\r\nSubject: deep\r\nMIME-Version: 1.0\r\n${body}`, what: `${depth} levels` };
  },
  'broken-boundary': (random, text) => {
    const boundary = /boundary="?([^";\r\n]+)"?/i.exec(text)?.[1];
    if (!boundary) return { text: text.replace(/\r\n\r\n/, '\r\nContent-Type: multipart/mixed; boundary=""\r\n\r\n'), what: 'empty boundary' };
    return { text: text.replaceAll(`--${boundary}--`, '').replace(`boundary="${boundary}"`, `boundary="${boundary}${between(random, 1, 9)}"`), what: `boundary ${boundary} changed, end removed` };
  },
  'bad-encodings': (random, text) => {
    const encoding = pick(random, ['base64', 'quoted-printable', 'x-uuencode', '8bit', 'gibberish']);
    const charset = pick(random, ['x-unknown', 'utf-7', 'iso-2022-jp', 'utf-16', '"; DROP TABLE']);
    return {
      text: text.replace(/Content-Transfer-Encoding:.*$/gim, `Content-Transfer-Encoding: ${encoding}`).replace(/charset="?[^";\r\n]+"?/gi, `charset=${charset}`).replace(/=\?UTF-8\?Q\?/gi, '=?x-bogus?Q?=ZZ'),
      what: `${encoding}, charset ${charset}`,
    };
  },
  'lf-only': (_random, text) => ({ text: text.replaceAll('\r\n', '\n'), what: 'LF line ends' }),
};

/** The MIME mutations' names: how a mutation's description starts. */
export const MIME_MUTATION_NAMES = Object.keys(MIME_MUTATIONS);

const WRONG_CONTENT_TYPES = [
  undefined,
  '',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'multipart/form-data; boundary=',
  'application/xml',
  'application/json; charset=latin1',
  'application/json, text/plain',
  'message/rfc822',
  'application/octet-stream',
  ';;;',
];

const GITHUB_EVENTS = ['issues', 'pull_request', 'pull_request_review', 'issue_comment', 'ping', 'push', 'member', 'installation', '', 'ISSUES', 'issues\u00e9', 'x'.repeat(300)];

const decode = (body: Uint8Array) => Buffer.from(body).toString('latin1');
const encodeLatin1 = (text: string) => Uint8Array.from(Buffer.from(text, 'latin1'));

/**
 * Mutation `index` of a run: one of the samples, changed by one structural (JSON or MIME) or byte
 * mutation, sometimes sent with a wrong content type or (GitHub) another event header.
 * Deterministic in (`seed`, `index`).
 */
export const mutatePayload = (samples: readonly PayloadSample[], seed: number, index: number): MutatedPayload => {
  const random = mutationRandom(seed, index);
  const sample = pick(random, samples);
  let body: Uint8Array;
  let mutation: string;
  const structural = random() < 0.65;
  if (structural && sample.format === 'json') {
    const name = pick(random, Object.keys(JSON_MUTATIONS));
    const text = new TextDecoder().decode(sample.body);
    const result = JSON_MUTATIONS[name]!(random, JSON.parse(text) as Json, text);
    body = encoder.encode(result.text);
    mutation = `${name} ${result.what}`;
  } else if (structural && sample.format !== 'json') {
    // MIME messages and multipart posts are byte strings: latin1 keeps every byte as it is.
    const name = pick(random, Object.keys(MIME_MUTATIONS));
    const result = MIME_MUTATIONS[name]!(random, decode(sample.body));
    body = encodeLatin1(result.text);
    mutation = `${name} ${result.what}`;
  } else {
    const name = pick(random, Object.keys(BYTE_MUTATIONS));
    const result = BYTE_MUTATIONS[name]!(random, sample.body);
    body = result.body;
    mutation = `${name} ${result.what}`;
  }
  let contentType: string | undefined = sample.contentType;
  if (random() < 0.1) {
    contentType = pick(random, WRONG_CONTENT_TYPES);
    mutation += ` · content-type ${JSON.stringify(contentType)}`;
  }
  let event = sample.event;
  if (sample.family === 'github' && random() < 0.08) {
    event = pick(random, GITHUB_EVENTS);
    mutation += ` · event ${JSON.stringify(event.slice(0, 20))}`;
  }
  return { index, sample, mutation, body, contentType, ...(event === undefined ? {} : { event }) };
};
