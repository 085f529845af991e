import { splitAddress } from './addresses.ts';
import { type HeaderField, headerValue } from './header-section.ts';

/** A header value without its comments, nested ones included (RFC 5322 §3.2.2), each left as a space; one pass. */
const withoutComments = (value: string): string => {
  let depth = 0;
  let kept = '';
  for (const char of value) {
    if (char === '(') depth += 1;
    else if (char === ')' && depth > 0) {
      depth -= 1;
      if (depth === 0) kept += ' ';
    } else if (depth === 0) kept += char;
  }
  return kept;
};

/**
 * Whether the receiving mail system vouches for the sender's address, read from the verdict it
 * prepends to the message. Only the topmost verdict header counts: the receiver adds its own above
 * everything the sender wrote, so a forged verdict further down is never read (RFC 8601 §5).
 *
 * - `Authentication-Results` (RFC 8601): `dkim=pass` signed by the From domain (`header.d`, or
 *   `header.i`), `spf=pass` for an envelope sender at the From domain (`smtp.mailfrom`), or
 *   `dmarc=pass` for the From domain (`header.from`). Amazon SES, Gmail, Microsoft 365 and Postfix
 *   with OpenDKIM/OpenDMARC add it.
 * - Otherwise `Received-SPF: pass` (RFC 7208 §9.1) with `envelope-from` at the From domain, as SES
 *   and Postmark prepend to inbound mail.
 *
 * Alignment is exact (the From domain itself, not a parent domain): a pass for `mailer.example`
 * says nothing about `alice@example`. Anything else — no verdict, `softfail`, `neutral`, a verdict
 * about another domain — is not verified.
 */
export const senderIsVerified = (headers: readonly HeaderField[], fromAddress: string): boolean => {
  const fromDomain = splitAddress(fromAddress).domain;
  const domainOf = (value: string | undefined) => (value ? (value.includes('@') ? splitAddress(value).domain : value.toLowerCase()) : undefined);
  const results = headerValue(headers, 'authentication-results');
  if (results !== undefined) {
    // `authserv-id; method=result prop=value …; method=result …`
    for (const clause of withoutComments(results).split(';').slice(1)) {
      const [method, ...props] = clause.trim().split(/\s+/);
      const [name, result] = (method ?? '').toLowerCase().split('=');
      if (result !== 'pass') continue;
      const prop = (key: string) => props.find((p) => p.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
      const domains =
        name === 'dkim'
          ? [domainOf(prop('header.d')), domainOf(prop('header.i'))]
          : name === 'spf'
            ? [domainOf(prop('smtp.mailfrom'))]
            : name === 'dmarc'
              ? [domainOf(prop('header.from'))]
              : [];
      if (domains.includes(fromDomain)) return true;
    }
    return false;
  }
  const spf = headerValue(headers, 'received-spf');
  if (spf === undefined || !/^\s*pass\b/i.test(spf)) return false;
  const envelopeFrom = /envelope-from=<?([^;\s>]+)/i.exec(spf)?.[1];
  return domainOf(envelopeFrom) === fromDomain;
};
