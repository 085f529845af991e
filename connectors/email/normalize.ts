import type { Normalized } from '../../core/changes.ts';
import { personIdFor } from '../../core/ids.ts';
import type { ObservedItem, Person, Priority, PriorityLevel, Status } from '../../core/work-item.ts';
import { type Mailbox, splitAddress, whyNoSender, withoutTag } from './addresses.ts';
import { headerValue } from './header-section.ts';
import { extractEmailLinks } from './links.ts';
import type { EmailMessage } from './message.ts';
import { senderIsVerified } from './sender-verdict.ts';
import { type EmailSettings, closeAddressOf, teamDomainsOf } from './settings.ts';
import { trimText } from './text.ts';

/** The cross-tool ref of a thread: `email:{mailbox}/{thread root Message-ID}`. */
export const emailRef = (mailbox: string, rootMessageId: string): string => `email:${mailbox.toLowerCase()}/${rootMessageId}`;

/**
 * The thread a message belongs to, named by its first message (RFC 5322 §3.6.4): the first id of
 * `References` is the root, `In-Reply-To` is the parent when there are no References (so a reply
 * to a reply without References threads under its parent), and a message that answers nothing
 * starts a thread of its own.
 */
export const threadRootOf = (message: Pick<EmailMessage, 'references' | 'inReplyTo' | 'messageId'>, fallbackId: string): string =>
  message.references[0] ?? message.inReplyTo[0] ?? message.messageId ?? fallbackId;

/** Reply and forward prefixes in the languages mail clients commonly write them in. */
const PREFIX = /^\s*(?:re|fw|fwd|aw|wg|sv|vs|antw|rif|r|tr|ref)\s*(?:(?:\[\d+\]|\(\d+\))\s*)?[:：]\s*/i;
const TAG = /^\s*\[([^\]]{1,40})\]\s*/;

/** `Re: [Urgent] Fwd: Deploy broken` → title `Deploy broken`, tags `urgent`. */
export function cleanSubject(subject: string): { title: string; tags: string[] } {
  let rest = subject;
  const tags: string[] = [];
  for (;;) {
    const prefix = PREFIX.exec(rest);
    if (prefix) {
      rest = rest.slice(prefix[0].length);
      continue;
    }
    const tag = TAG.exec(rest);
    if (tag) {
      tags.push(tag[1]!.trim().toLowerCase());
      rest = rest.slice(tag[0].length);
      continue;
    }
    break;
  }
  return { title: rest.trim() || '(no subject)', tags };
}

const LEVELS: readonly PriorityLevel[] = ['urgent', 'high', 'medium', 'low', 'none'];
const TAG_LEVELS: Readonly<Record<string, PriorityLevel>> = {
  urgent: 'urgent',
  critical: 'urgent',
  emergency: 'urgent',
  p0: 'urgent',
  high: 'high',
  important: 'high',
  p1: 'high',
  medium: 'medium',
  p2: 'medium',
  low: 'low',
  p3: 'low',
  p4: 'low',
};

/**
 * The priority a message asks for, the strongest of: subject tags (`[urgent]`, `[P1]`, `[low]`,
 * anywhere in the subject), `Priority: urgent` (RFC 2156), `Importance: high|low` (RFC 2156),
 * `X-Priority: 1–5` (1–2 high, 4–5 low; Outlook's "High importance" is 1) and
 * `X-MSMail-Priority`. Normal priority is no priority: `none`.
 */
export function priorityOf(message: Pick<EmailMessage, 'subject' | 'headers'>): Priority {
  const candidates: Priority[] = [];
  for (const match of message.subject.matchAll(/\[([^\]]{1,20})\]/g)) {
    const level = TAG_LEVELS[match[1]!.trim().toLowerCase()];
    if (level) candidates.push({ name: match[0], level });
  }
  const header = (name: string) => headerValue(message.headers, name)?.trim().toLowerCase();
  if (header('priority') === 'urgent') candidates.push({ name: 'Priority: urgent', level: 'urgent' });
  const importance = header('importance');
  if (importance === 'high' || importance === 'low') candidates.push({ name: `Importance: ${importance}`, level: importance });
  const xPriority = Number(/^\d/.exec(header('x-priority') ?? '')?.[0]);
  if (xPriority === 1 || xPriority === 2) candidates.push({ name: `X-Priority: ${xPriority}`, level: 'high' });
  if (xPriority === 4 || xPriority === 5) candidates.push({ name: `X-Priority: ${xPriority}`, level: 'low' });
  const msPriority = header('x-msmail-priority');
  if (msPriority === 'high' || msPriority === 'low') candidates.push({ name: `X-MSMail-Priority: ${msPriority}`, level: msPriority });
  return candidates.sort((a, b) => LEVELS.indexOf(a.level) - LEVELS.indexOf(b.level))[0] ?? { level: 'none' };
}

/**
 * Out-of-office answers, vacation responders and bounces (RFC 3834 `Auto-Submitted:
 * auto-replied`, the de-facto `X-Autoreply`/`X-Autorespond`, `Precedence: auto_reply`, and
 * delivery reports): they say nothing about the request. Auto-generated mail (alerts) is not one:
 * it starts threads like any other message.
 */
export function isAutomaticReply(message: Pick<EmailMessage, 'headers'>): boolean {
  const header = (name: string) => headerValue(message.headers, name)?.trim().toLowerCase();
  return (
    header('auto-submitted')?.startsWith('auto-replied') === true ||
    header('x-autoreply') !== undefined ||
    header('x-autorespond') !== undefined ||
    header('precedence') === 'auto_reply' ||
    header('content-type')?.startsWith('multipart/report') === true
  );
}

/**
 * An email address as a person: one identity per address, merged with other tools by the people
 * API, or automatically when `verified` (the sender passed DKIM or SPF: connectors/email/sender-verdict.ts).
 */
export const personOfMailbox = (mailbox: Mailbox, verified = false): Person => ({
  id: personIdFor(`email:${mailbox.address}`),
  ...(mailbox.name ? { name: mailbox.name } : {}),
  handles: [{ source: 'email', handle: mailbox.address }],
  emails: [mailbox.address],
  ...(verified ? { verifiedEmails: [mailbox.address.toLowerCase()] } : {}),
});

/** The rules a connection's settings make: who is the team, what closes, which team a recipient is. */
interface Rules {
  isTeam(address: string): boolean;
  isMailbox(address: string): boolean;
  closes(message: EmailMessage): boolean;
  teamOf(message: EmailMessage): string | undefined;
}

const rulesOf = (settings: EmailSettings): Rules => {
  const domains = new Set(teamDomainsOf(settings));
  const teamAddresses = new Set(settings.teamAddresses);
  const closeAddress = closeAddressOf(settings);
  const closeWords = settings.closeWords.map((word) => word.toLowerCase());
  const isMailbox = (address: string) => withoutTag(address) === withoutTag(settings.address);
  return {
    isTeam: (address) => teamAddresses.has(address) || isMailbox(address) || domains.has(splitAddress(address).domain),
    isMailbox,
    closes: (message) =>
      closeWords.some((word) => message.subject.toLowerCase().includes(word)) ||
      [...message.to, ...message.cc].some((recipient) => recipient.address === closeAddress),
    teamOf: (message) => {
      for (const recipient of [...message.to, ...message.cc]) {
        const team = settings.teams[recipient.address] ?? settings.teams[withoutTag(recipient.address)];
        if (team) return team;
      }
      return settings.team;
    },
  };
};

/** A date header as UTC ISO 8601, or undefined when it does not parse. */
const isoDate = (value: string | undefined): string | undefined => {
  if (!value) return undefined;
  const millis = new Date(value).getTime();
  return Number.isNaN(millis) ? undefined : new Date(millis).toISOString();
};

/** What normalizing a message needs besides the message. */
export interface EmailNormalizeContext {
  settings: EmailSettings;
  jiraProjects: Readonly<Record<string, string>>;
  /** when the delivery was received: the time of a message without a Date header, or whose Date does not parse */
  receivedAt: string;
  /** names the thread of a message that has no Message-ID: `sha256:` of its content, as in its delivery id */
  fallbackId: string;
  event: string;
}

/**
 * Pure: one message → an upsert of its thread's `request` item, or the reason it is ignored (an
 * automatic reply; a message that names no sender at all).
 *
 * - The thread (ref) comes from References / In-Reply-To / Message-ID ({@link threadRootOf}).
 * - Status follows the latest message: the first one is `new` (todo); a reply from the team
 *   (a sender at a team domain, in `teamAddresses`, or the mailbox itself) is `answered`
 *   (in_progress); a later reply from anyone else is `waiting` (todo) again; a subject with a
 *   close word or a message to the close address is `closed` (done).
 * - The requester is the thread root's sender; a reply only guesses it (its sender, or for a team
 *   reply the first recipient outside the team) until the root is seen: title, requester, team,
 *   priority and labels are `earliestFields`, taken from the earliest message whatever the order.
 * - Links from subject and body add up over the thread (the upsert is authoritative for no origin).
 */
export function normalizeEmailMessage(message: EmailMessage, context: EmailNormalizeContext): Normalized {
  const { settings, event } = context;
  if (isAutomaticReply(message)) {
    return { outcome: 'ignored', event, reason: 'An automatic reply (out of office, vacation, delivery report) says nothing about the request.' };
  }
  if (!message.from) return { outcome: 'ignored', event, reason: `The message names no sender: ${whyNoSender(message.headers)}.` };
  const rules = rulesOf(settings);
  const rootId = threadRootOf(message, context.fallbackId);
  const isReply = rootId !== (message.messageId ?? context.fallbackId);
  const fromTeam = rules.isTeam(message.from.address);
  const at = isoDate(message.date) ?? context.receivedAt;
  const ref = emailRef(settings.address, rootId);

  const status: Status = rules.closes(message)
    ? { name: 'closed', category: 'done' }
    : !isReply
      ? { name: 'new', category: 'todo' }
      : fromTeam
        ? { name: 'answered', category: 'in_progress' }
        : { name: 'waiting', category: 'todo' };

  const requester =
    !isReply || !fromTeam
      ? message.from
      : [...message.to, ...message.cc].find((recipient) => !rules.isTeam(recipient.address) && !rules.isMailbox(recipient.address));

  const { title, tags } = cleanSubject(message.subject);
  const closeWords = new Set(settings.closeWords.map((word) => word.toLowerCase().replace(/^\[|\]$/g, '')));
  const team = rules.teamOf(message);
  const item: ObservedItem = {
    ref,
    source: 'email',
    kind: 'request',
    title,
    container: { source: 'email', key: settings.address, name: settings.address },
    status,
    priority: priorityOf(message),
    owners: [],
    // Only the sender can be vouched for: a recipient guessed as the requester never is.
    ...(requester ? { requester: personOfMailbox(requester, requester === message.from && senderIsVerified(message.headers, requester.address)) } : {}),
    ...(team ? { team } : {}),
    labels: [...new Set(tags.filter((tag) => !closeWords.has(tag)))],
    createdAt: at,
    updatedAt: at,
    ...(status.category === 'done' ? { closedAt: at } : {}),
    links: extractEmailLinks({
      subject: message.subject,
      body: trimText(message.text, settings.maxTextChars),
      mailbox: settings.address,
      jiraProjects: context.jiraProjects,
      self: ref,
    }),
  };
  return {
    outcome: 'changes',
    event,
    changes: [
      {
        op: 'upsert',
        item,
        linkOrigins: [],
        activityAt: at,
        earliestFields: ['title', 'requester', 'team', 'priority', 'labels'],
      },
    ],
  };
}
