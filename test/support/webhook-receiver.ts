import { type IncomingHttpHeaders, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request a receiver got, as it came over the wire. */
export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  /** the status the receiver answered (undefined: it never answered) */
  answered?: number;
  at: number;
}

/** What to answer the nth request (1-based): a status, or `hang` (never answer). */
export type Responder = (request: ReceivedWebhook, n: number) => number | 'hang';

/**
 * A webhook receiver on 127.0.0.1: records every request and answers what `respond` says (204 by
 * default). Tests change `respond` to simulate errors and slow receivers, and close it (then start
 * one again on the same `port`) to simulate an outage.
 */
export const startReceiver = async (respond: Responder = () => 204, options: { port?: number } = {}) => {
  const received: ReceivedWebhook[] = [];
  const hanging = new Set<ServerResponse>();
  const receiver = {
    respond,
    received,
    url: '',
    /** the requests with a 2xx answer */
    delivered: () => received.filter((r) => r.answered !== undefined && r.answered >= 200 && r.answered < 300),
    /** parsed JSON bodies of the delivered requests */
    deliveredBodies: () => receiver.delivered().map((r) => JSON.parse(r.body)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: ReceivedWebhook = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      received.push(request);
      const answer = receiver.respond(request, received.length);
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      request.answered = answer;
      res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? '' : 'receiver says no');
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/tributary`;
  return receiver;
};

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/**
 * Verifies a received webhook as a receiver would, with the `standardwebhooks` package; returns the
 * event. `ignoreTime`: accept a timestamp outside the 5-minute tolerance (tests that move the hub's clock).
 */
export const verifyWebhook = (request: ReceivedWebhook, secret: string, options: { ignoreTime?: boolean } = {}): unknown => {
  const headers = {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  };
  if (!options.ignoreTime) return new Webhook(secret).verify(request.body, headers);
  const expected = new Webhook(secret).sign(headers['webhook-id'], new Date(Number(headers['webhook-timestamp']) * 1000), request.body);
  if (!headers['webhook-signature'].split(' ').includes(expected)) throw new Error(`no signature of ${headers['webhook-id']} verifies with this secret`);
  return JSON.parse(request.body);
};
