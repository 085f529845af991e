import type { Normalized } from '../../core/changes.ts';
import type { Connector } from '../../core/connector.ts';
import { githubBackfill } from './backfill.ts';
import { normalizeGithubDelivery } from './normalize.ts';
import { receiveGithubDelivery } from './receive.ts';
import { type GithubSettings, GithubSettings as GithubSettingsSchema } from './settings.ts';
import { verifyGithubSignature } from './verify.ts';

/**
 * GitHub: repository or organization webhooks (content type JSON, with a secret) for issues,
 * pull requests, reviews and issue comments, and pushes and branches (`push`, `create`, `delete`)
 * for the commits and branches that name items. Webhooks need no settings; backfill and
 * reconciliation need read `credentials` (docs/backfill.md).
 */
export const github: Connector<GithubSettings, Normalized> = {
  source: 'github',
  settings: GithubSettingsSchema,
  secretHeaders: ['x-hub-signature-256', 'x-hub-signature'],
  verify: verifyGithubSignature,
  receive: receiveGithubDelivery,
  normalize: normalizeGithubDelivery,
  secretSettings: ['credentials.token'],
  backfill: githubBackfill,
};

export { normalizeGithubDelivery } from './normalize.ts';
export { receiveGithubDelivery } from './receive.ts';
export { verifyGithubSignature } from './verify.ts';
export { GithubSettings } from './settings.ts';
