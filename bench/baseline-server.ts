import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { verifyGithubSignature } from '../connectors/github/index.ts';

/**
 * Baseline (a) of the ack-path benchmark: a bare Hono endpoint that verifies the signature and
 * answers 202 without storing anything. `node --import tsx bench/baseline-server.ts <secret>`.
 */
const secret = process.argv[2] ?? 'bench-secret';
const app = new Hono().post('/hooks/github/:id', async (c) => {
  const body = new Uint8Array(await c.req.arrayBuffer());
  verifyGithubSignature({ headers: Object.fromEntries(c.req.raw.headers), body }, { id: c.req.param('id'), settings: {}, secrets: [secret] });
  return c.json({ deliveryId: c.req.header('x-github-delivery'), status: 'accepted' }, 202);
});
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
