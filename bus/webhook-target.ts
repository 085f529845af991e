import { lookup } from 'node:dns/promises';
import { AppError } from '../core/errors.ts';
import { limitConcurrency } from '../core/limit-concurrency.ts';
import { type AddressClass, CLASS_NAMES, classifyHost, isAllowedClass } from '../core/target-address.ts';

/**
 * The guard against server-side request forgery for webhook targets: a subscription's URL may not
 * lead the hub into its own network. Only `https` by default; loopback, private, shared (CGNAT),
 * link-local, unique-local, unspecified, multicast and reserved addresses are refused, at creation
 * and again at every send after resolving the name, so a name that later resolves to such an
 * address is refused too. The sender then connects to the very address that was checked
 * (bus/webhook-sender.ts passes it as the socket's `lookup`): resolving again could give another
 * answer (DNS rebinding). `TRIBUTARY_ALLOW_PRIVATE_TARGETS=true` allows `http` and loopback,
 * private and unique-local targets for local development; cloud metadata addresses (and all of
 * link-local, where they live) stay refused even then.
 */

/** A name's addresses, as `dns.lookup` answers them. Tests inject one: they never resolve an outside name. */
export type Resolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

/**
 * Lookups the system resolver runs at once. `getaddrinfo` runs on libuv's thread pool (4 threads
 * unless `UV_THREADPOOL_SIZE` says otherwise), which `npm start`'s embedded engine shares for its
 * LevelDB reads and writes (it is a worker thread of the hub's process): a name whose DNS hangs
 * holds a thread for seconds, so lookups take two threads at most and storage keeps the others.
 */
const SYSTEM_LOOKUPS_AT_ONCE = 2;

/** The operating system's resolver (`getaddrinfo`, like every other client on the machine). */
export const systemResolver: Resolver = limitConcurrency((hostname) => lookup(hostname, { all: true, verbatim: true }), SYSTEM_LOOKUPS_AT_ONCE);

export interface TargetPolicy {
  /** TRIBUTARY_ALLOW_PRIVATE_TARGETS */
  allowPrivate: boolean;
  resolver: Resolver;
}

/** A target the guard refused: 422 at creation; at send time, a failed attempt with this message. */
export class TargetRefusedError extends AppError {
  constructor(
    detail: string,
    readonly reason: AddressClass | 'scheme' | 'credentials' | 'unresolvable' | 'malformed',
  ) {
    super({ status: 422, type: 'target-refused', title: 'Target refused', detail, extensions: { errors: [{ path: 'url', message: detail }], reason } });
    this.name = 'TargetRefusedError';
  }
}

/** A target that passed the guard: where to connect, and the URL to send to (Host, TLS name). */
export interface CheckedTarget {
  url: URL;
  /** the checked address the connection must go to */
  address: string;
  family: 4 | 6;
}

const PRIVATE_HINT = 'Webhook targets must be public; for local development set TRIBUTARY_ALLOW_PRIVATE_TARGETS=true (loopback and private addresses over http or https).';

/** The URL's syntax: scheme, no credentials. Throws TargetRefusedError. */
export const parseTargetUrl = (value: string, policy: Pick<TargetPolicy, 'allowPrivate'>): URL => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TargetRefusedError('The target is not an absolute URL.', 'malformed');
  }
  const schemes = policy.allowPrivate ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) {
    throw new TargetRefusedError(
      `The target uses ${url.protocol.replace(/:$/, '')}: only ${policy.allowPrivate ? 'http and https are' : 'https is'} allowed${policy.allowPrivate ? '' : ' (TRIBUTARY_ALLOW_PRIVATE_TARGETS=true allows http for local development)'}.`,
      'scheme',
    );
  }
  // Credentials in the URL would be sent as Basic auth to whoever the name points at, and logged with it.
  if (url.username || url.password) throw new TargetRefusedError('The target URL contains credentials: verify the signature instead (or put a token in the path).', 'credentials');
  if (!url.hostname) throw new TargetRefusedError('The target URL has no host.', 'malformed');
  return url;
};

const refuse = (url: URL, address: string, addressClass: AddressClass, allowPrivate: boolean): never => {
  const named = address === url.hostname.replace(/^\[|\]$/g, '') ? address : `${url.hostname}, which resolves to ${address},`;
  const hint = addressClass === 'metadata' || addressClass === 'link_local' ? 'Cloud metadata and link-local addresses are never webhook targets.' : allowPrivate ? '' : PRIVATE_HINT;
  throw new TargetRefusedError(`${named} is ${CLASS_NAMES[addressClass]}. ${hint}`.trim(), addressClass);
};

/**
 * Checks a target and resolves it to the address to connect to: an IP literal (any spelling) is
 * classified as it is; a name is resolved, and every address it resolves to must be allowed (a
 * name answering one public and one private address is refused: either could be used).
 */
export const checkTarget = async (value: string, policy: TargetPolicy): Promise<CheckedTarget> => {
  const url = parseTargetUrl(value, policy);
  const host = classifyHost(url.hostname);
  if (host.kind !== 'name') {
    if (!isAllowedClass(host.class, policy.allowPrivate)) refuse(url, host.address, host.class, policy.allowPrivate);
    return { url, address: host.address, family: host.kind === 'ipv4' ? 4 : 6 };
  }
  let answers: { address: string; family: number }[];
  try {
    answers = await policy.resolver(url.hostname);
  } catch (error) {
    throw new TargetRefusedError(`${url.hostname} does not resolve (${(error as { code?: string }).code ?? String(error)}).`, 'unresolvable');
  }
  if (answers.length === 0) throw new TargetRefusedError(`${url.hostname} does not resolve to any address.`, 'unresolvable');
  const checked = answers.map((answer) => ({ answer, host: classifyHost(answer.address) }));
  for (const { answer, host: resolved } of checked) {
    if (resolved.kind === 'name') throw new TargetRefusedError(`${url.hostname} resolves to ${answer.address}, which is not an IP address.`, 'unresolvable');
    if (!isAllowedClass(resolved.class, policy.allowPrivate)) refuse(url, resolved.address, resolved.class, policy.allowPrivate);
  }
  const first = checked[0]!.host as Extract<ReturnType<typeof classifyHost>, { address: string }>;
  return { url, address: first.address, family: first.kind === 'ipv4' ? 4 : 6 };
};
