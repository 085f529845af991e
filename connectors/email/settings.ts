import { createHash } from 'node:crypto';
import * as z from 'zod';
import { splitAddress } from './addresses.ts';

/** How mail reaches the hub: see docs/email.md for setting up each. */
export const EmailProvider = z.enum(['raw', 'ses', 'postmark', 'sendgrid']);
export type EmailProvider = z.infer<typeof EmailProvider>;

const lowercaseEmail = z.email().transform((address) => address.toLowerCase());
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Settings every email connection has, whatever the provider. */
const common = {
  /** the shared mailbox this connection indexes, e.g. `platform@acme.example` */
  address: lowercaseEmail,
  /** senders at these domains are the team answering the mailbox; default: the mailbox's domain */
  teamDomains: z.array(z.string().min(1).transform((d) => d.toLowerCase().replace(/^@/, ''))).optional(),
  /** more senders who answer for the team (e.g. on-call from another domain) */
  teamAddresses: z.array(lowercaseEmail).default([]),
  /** recipient address → team, e.g. `{"platform+db@acme.example": "databases"}`; the plain mailbox falls back to `team` */
  teams: z.record(z.string().transform((a) => a.toLowerCase()), z.string().min(1)).default({}),
  /** the team of requests to this mailbox, when no entry of `teams` matches */
  team: z.string().min(1).optional(),
  /** a subject containing one of these (case-insensitive) closes the request */
  closeWords: z.array(z.string().min(1)).default(['[closed]', '[resolved]', '[done]']),
  /** a message sent or copied to this address closes the request; default `{mailbox}+close@{domain}` */
  closeAddress: lowercaseEmail.optional(),
  /** `request_unanswered` fires after this many hours without a team reply; default one business day */
  slaHours: z.number().positive().max(24 * 30).optional(),
  /** body text read for references, in characters (after quoted history is removed) */
  maxTextChars: z.number().int().min(256).max(1_000_000).default(16_384),
};

/**
 * Basic-auth credentials for providers that post to a URL (Postmark, SendGrid): the user name,
 * and as password the connection secret or one given here. A given password is kept only as its
 * sha256, so it is never shown again.
 */
const basicAuth = {
  username: z.string().min(1).max(200).default('tributary'),
  password: z.string().min(16, 'use at least 16 characters').max(1000).optional(),
  passwordSha256: z.string().regex(SHA256_HEX).optional(),
};

export const EmailSettings = z
  .discriminatedUnion('provider', [
    z.object({ provider: z.literal('raw'), ...common }),
    z.object({
      provider: z.literal('ses'),
      ...common,
      /** SNS topics allowed to deliver here; empty accepts any topic whose messages SNS signed */
      topicArns: z.array(z.string().regex(/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w.-]+$/, 'an SNS topic ARN')).default([]),
    }),
    z.object({ provider: z.literal('postmark'), ...common, ...basicAuth }),
    z.object({ provider: z.literal('sendgrid'), ...common, ...basicAuth }),
  ])
  .transform((settings) => {
    if (!('password' in settings) || settings.password === undefined) return settings;
    const { password, ...rest } = settings;
    return { ...rest, passwordSha256: createHash('sha256').update(password).digest('hex') };
  });
export type EmailSettings = z.output<typeof EmailSettings>;

/** The settings of a stored connection (validated when it was created, so they parse). */
export const readEmailSettings = (settings: Readonly<Record<string, unknown>>): EmailSettings => EmailSettings.parse(settings);

/** The domains whose senders answer for the team. */
export const teamDomainsOf = (settings: EmailSettings): string[] => settings.teamDomains ?? [splitAddress(settings.address).domain];

/** The address that closes a request when a message is sent or copied to it. */
export const closeAddressOf = (settings: EmailSettings): string => {
  if (settings.closeAddress) return settings.closeAddress;
  const { local, domain } = splitAddress(settings.address);
  return `${local}+close@${domain}`;
};
