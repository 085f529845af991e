/**
 * What kind of address a webhook target is (pure): the decisions of the SSRF guard
 * (bus/webhook-target.ts), which refuses internal addresses at creation and again at every send,
 * after name resolution. Written out here rather than read from `node:net` so the rules are plain
 * data, cover every spelling a host can take, and can be tested without a network.
 */

/** Where an address leads. Only `public` is a webhook target by default. */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link_local'
  | 'unique_local'
  | 'unspecified'
  | 'metadata'
  | 'multicast'
  | 'reserved';

/** What `TRIBUTARY_ALLOW_PRIVATE_TARGETS=true` adds to `public`, for local development and tests. */
export const PRIVATE_CLASSES: ReadonlySet<AddressClass> = new Set(['loopback', 'private', 'shared', 'unique_local']);

/** How each class is named in a refusal. */
export const CLASS_NAMES: Record<AddressClass, string> = {
  public: 'a public address',
  loopback: 'a loopback address',
  private: 'a private address',
  shared: 'a carrier-grade NAT (shared) address',
  link_local: 'a link-local address',
  unique_local: 'a unique-local address',
  unspecified: 'the unspecified address',
  metadata: 'a cloud metadata address',
  multicast: 'a multicast address',
  reserved: 'a reserved address',
};

/**
 * An IPv4 address in any spelling `inet_aton` (and the WHATWG URL parser) accepts: 1 to 4 parts,
 * each decimal, octal (`0177`) or hex (`0x7f`), the last filling the remaining bytes, so
 * `2130706433`, `0x7f000001`, `0177.0.0.1` and `127.1` are all 127.0.0.1. Undefined when not one.
 */
export const parseIpv4 = (text: string): [number, number, number, number] | undefined => {
  const parts = text.endsWith('.') ? text.slice(0, -1).split('.') : text.split('.');
  if (parts.length < 1 || parts.length > 4) return undefined;
  const numbers: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0x[0-9a-f]*$/i.test(part)) value = part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
    else if (/^0[0-7]+$/.test(part)) value = Number.parseInt(part.slice(1), 8);
    else if (/^(0|[1-9][0-9]*)$/.test(part)) value = Number(part);
    else return undefined;
    if (!Number.isSafeInteger(value)) return undefined;
    numbers.push(value);
  }
  const last = numbers.pop()!;
  if (numbers.some((n) => n > 255) || last >= 256 ** (4 - numbers.length)) return undefined;
  const bytes = [...numbers];
  for (let i = 4 - numbers.length - 1; i >= 0; i--) bytes.push(Math.floor(last / 256 ** i) % 256);
  return bytes as [number, number, number, number];
};

/** An IPv6 address (brackets, a zone `%eth0` and an embedded IPv4 tail allowed) as 16 bytes; undefined when not one. */
export const parseIpv6 = (text: string): number[] | undefined => {
  let value = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  value = value.split('%', 1)[0]!;
  if (!value.includes(':')) return undefined;
  const halves = value.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string): number[] | undefined => {
    if (half === '') return [];
    const out: number[] = [];
    const pieces = half.split(':');
    for (const [index, piece] of pieces.entries()) {
      if (index === pieces.length - 1 && piece.includes('.')) {
        const v4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(piece) ? parseIpv4(piece) : undefined;
        if (!v4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-f]{1,4}$/i.test(piece)) {
        out.push(Number.parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
};

const inV4 = (bytes: readonly number[], prefix: readonly number[], bits: number): boolean => {
  for (let bit = 0; bit < bits; bit++) {
    const byte = Math.floor(bit / 8);
    const mask = 0x80 >> bit % 8;
    if ((bytes[byte]! & mask) !== (prefix[byte]! & mask)) return false;
  }
  return true;
};

/** Addresses the cloud providers serve instance metadata and credentials on (AWS, ECS, Alibaba, Oracle). */
const METADATA_V4 = new Set(['169.254.169.254', '169.254.170.2', '169.254.169.253', '169.254.169.123', '100.100.100.200', '192.0.0.192']);
/** AWS's IPv6 metadata and DNS endpoints (inside fc00::/7, which the private setting would otherwise allow). */
const METADATA_V6 = new Set(['fd00:ec2:0:0:0:0:0:254', 'fd00:ec2:0:0:0:0:0:23']);

/** The class of an IPv4 address given as bytes (IANA special-purpose registry, RFC 6890 and successors). */
export const classifyIpv4 = (bytes: readonly number[]): AddressClass => {
  if (METADATA_V4.has(bytes.join('.'))) return 'metadata';
  if (inV4(bytes, [0], 8)) return 'unspecified';
  if (inV4(bytes, [127], 8)) return 'loopback';
  if (inV4(bytes, [10], 8) || inV4(bytes, [172, 16], 12) || inV4(bytes, [192, 168], 16)) return 'private';
  if (inV4(bytes, [100, 64], 10)) return 'shared';
  if (inV4(bytes, [169, 254], 16)) return 'link_local';
  if (inV4(bytes, [192, 0, 0], 24) || inV4(bytes, [198, 18], 15) || inV4(bytes, [240], 4)) return 'reserved';
  if (inV4(bytes, [224], 4)) return 'multicast';
  return 'public';
};

/** The class of an IPv6 address given as 16 bytes; addresses that embed an IPv4 one take its class. */
export const classifyIpv6 = (bytes: readonly number[]): AddressClass => {
  const groups = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  if (METADATA_V6.has(groups.map((g) => g.toString(16)).join(':'))) return 'metadata';
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  const tailV4 = bytes.slice(12, 16);
  if (zeros(0, 8)) return 'unspecified';
  if (zeros(0, 7) && groups[7] === 1) return 'loopback';
  // ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (translated), ::a.b.c.d (compatible, deprecated): the IPv4 address is what is reached.
  if (zeros(0, 5) && (groups[5] === 0xffff || groups[5] === 0)) return classifyIpv4(tailV4);
  if (zeros(0, 4) && groups[4] === 0xffff && groups[5] === 0) return classifyIpv4(tailV4);
  // 64:ff9b::/96 (NAT64) reaches the embedded IPv4 address; 64:ff9b:1::/48 is for local use.
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return classifyIpv4(tailV4);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups[2] === 1) return 'private';
  // 2002::/16 (6to4) carries an IPv4 address in its second and third groups.
  if (groups[0] === 0x2002) return classifyIpv4(bytes.slice(2, 6));
  // Teredo (2001::/32) and the rest of ::/8 and 100::/64 (discard) lead nowhere a webhook should go.
  if (groups[0] === 0x2001 && groups[1] === 0) return 'reserved';
  if (groups[0]! >> 8 === 0 || (groups[0] === 0x100 && zeros(1, 4))) return 'reserved';
  if ((groups[0]! & 0xffc0) === 0xfe80) return 'link_local';
  if ((groups[0]! & 0xffc0) === 0xfec0) return 'private';
  if ((groups[0]! & 0xfe00) === 0xfc00) return 'unique_local';
  if (groups[0]! >> 8 === 0xff) return 'multicast';
  return 'public';
};

export type HostKind = { kind: 'ipv4'; address: string; class: AddressClass } | { kind: 'ipv6'; address: string; class: AddressClass } | { kind: 'name' };

/**
 * What a host (a URL's hostname, or an address a resolver answered) is: an IP address in any
 * spelling, with its canonical form and class, or a name to resolve.
 */
export const classifyHost = (host: string): HostKind => {
  const v6 = parseIpv6(host);
  if (v6) {
    const groups = Array.from({ length: 8 }, (_, i) => ((v6[2 * i]! << 8) | v6[2 * i + 1]!).toString(16));
    return { kind: 'ipv6', address: groups.join(':'), class: classifyIpv6(v6) };
  }
  const v4 = parseIpv4(host);
  if (v4) return { kind: 'ipv4', address: v4.join('.'), class: classifyIpv4(v4) };
  return { kind: 'name' };
};

/** Whether a class of address may be a webhook target; metadata addresses never are. */
export const isAllowedClass = (addressClass: AddressClass, allowPrivate: boolean): boolean =>
  addressClass === 'public' || (allowPrivate && PRIVATE_CLASSES.has(addressClass));
