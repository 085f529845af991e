/**
 * Mail bodies as plain text: HTML converted (never kept as HTML), quoted history removed where it
 * can be recognized, and the result trimmed. Pure string functions.
 */

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  ndash: '–',
  mdash: '—',
  hellip: '…',
  laquo: '«',
  raquo: '»',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  copy: '©',
  reg: '®',
  euro: '€',
  bull: '•',
  middot: '·',
  zwnj: '',
  zwj: '',
};

const decodeEntities = (text: string): string =>
  text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? entity;
  });

const BLOCK_END = /<\/(?:p|div|h[1-6]|tr|table|blockquote|pre|section|article|header|footer|ul|ol)\s*>/gi;

/**
 * HTML to readable text: scripts, styles and comments dropped, block ends and `<br>` as line
 * breaks, list items as `- `, a link's address kept after its text when it differs (so
 * `<a href="…/browse/ACME-1">the ticket</a>` still names ACME-1), entities decoded.
 */
export function htmlToText(html: string): string {
  return decodeEntities(
    html
      .replace(/<!--[\s\S]*?(?:-->|$)/g, '')
      .replace(/<(script|style|head|title)\b[\s\S]*?(?:<\/\1\s*>|$)/gi, '')
      .replace(/<a\b[^<>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s<>]+))[^<>]*>([\s\S]*?)(?:<\/a\s*>|$)/gi, (_m, dq, sq, bare, inner: string) => {
        const href = decodeEntities(String(dq ?? sq ?? bare ?? ''));
        const label = inner.replace(/<[^<>]*>/g, '').trim();
        return /^https?:/i.test(href) && decodeEntities(label) !== href ? `${inner} (${href})` : inner;
      })
      .replace(/<br\s*\/?>/gi, '\n')
      .replace(/<hr\b[^<>]*>/gi, '\n')
      .replace(/<li\b[^<>]*>/gi, '\n- ')
      .replace(BLOCK_END, '\n')
      .replace(/<(?:td|th)\b[^<>]*>/gi, ' ')
      .replace(/<[^<>]*>/g, ''),
  )
    .replace(/[ \t\u00a0]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Blockquotes and the quote containers of common webmail clients, removed before converting (a quote left open runs to the end). */
export function stripQuotedHtml(html: string): string {
  return html
    .replace(/<blockquote\b[\s\S]*?(?:<\/blockquote\s*>|$)/gi, '')
    .replace(/<div\b[^<>]*class\s*=\s*["'][^"']*\b(?:gmail_quote|yahoo_quoted|moz-cite-prefix)\b[\s\S]*$/i, '');
}

/*
 * Where quoted history starts in plain text: an attribution line ("On Mon, 4 Mar 2024, Ana
 * <ana@x> wrote:", also split over two lines), Outlook's "-----Original Message-----" or its
 * "From: … Sent: …" header block, or a forwarded message marker.
 */
const ATTRIBUTION = /^(?:On\b[^\n]{0,300}?(?:\n[^\n]{0,200}?)?\bwrote:|Le\b[^\n]{0,300}?a écrit ?:|Am\b[^\n]{0,300}?schrieb[^\n]{0,100}:)[ \t]*$/im;
const OUTLOOK = /^(?:-{2,}\s*Original Message\s*-{2,}|_{10,}\s*$|From:[^\n]*\n(?:Sent|Date):[^\n]*\n)/im;
const FORWARDED = /^-{2,}\s*Forwarded message\s*-{2,}/im;

/**
 * Removes quoted history: everything from the first recognized attribution or Outlook header on,
 * and `>`-quoted lines anywhere. A forwarded message is kept: it is the request.
 */
export function stripQuotedText(text: string): string {
  const cut = [ATTRIBUTION, OUTLOOK]
    .map((pattern) => pattern.exec(text)?.index)
    .filter((index): index is number => index !== undefined)
    .filter((index) => {
      const forwarded = FORWARDED.exec(text)?.index;
      return forwarded === undefined || index < forwarded;
    });
  const kept = cut.length > 0 ? text.slice(0, Math.min(...cut)) : text;
  return kept
    .split('\n')
    .filter((line) => !/^\s*>/.test(line))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** At most `maxChars` characters, cut at a line end when one is near. */
export function trimText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const cut = text.lastIndexOf('\n', maxChars);
  return text.slice(0, cut > maxChars * 0.8 ? cut : maxChars).trimEnd();
}
