import { z } from 'zod';
import type { Connector } from '../../core/connector.ts';
import { normalizeGithubDelivery } from './normalize.ts';
import { receiveGithubDelivery } from './receive.ts';
import { verifyGithubSignature } from './verify.ts';

/**
 * GitHub: repository or organization webhooks (content type JSON, with a secret) for issues,
 * pull requests, reviews and issue comments. A connection needs no settings.
 */
export const github: Connector<{}> = {
  source: 'github',
  settings: z.object({}),
  secretHeaders: ['x-hub-signature-256', 'x-hub-signature'],
  verify: verifyGithubSignature,
  receive: receiveGithubDelivery,
  normalize: normalizeGithubDelivery,
};

export { normalizeGithubDelivery } from './normalize.ts';
export { receiveGithubDelivery } from './receive.ts';
export { verifyGithubSignature } from './verify.ts';
