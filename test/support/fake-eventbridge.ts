import { type IncomingHttpHeaders, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One PutEvents entry as serialized by the SDK (awsJson1_1: `Time` in epoch seconds). */
export interface WireEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Time?: number;
  [field: string]: unknown;
}

/** One PutEvents request as it went over the wire. */
export interface CapturedPutEvents {
  headers: IncomingHttpHeaders;
  body: { Entries: WireEntry[] } & Record<string, unknown>;
  raw: string;
}

export type PutEventsAnswer = (request: CapturedPutEvents, index: number) => { status?: number; body: unknown };

const acceptAll: PutEventsAnswer = (request) => ({
  body: { FailedEntryCount: 0, Entries: request.body.Entries.map((_, i) => ({ EventId: `eb-${Date.now()}-${i}` })) },
});

/**
 * A stand-in for the EventBridge endpoint on 127.0.0.1 (no npm package emulates EventBridge without
 * Docker): it records each PutEvents request exactly as the AWS SDK serialized it and answers like
 * the service, so tests see the real wire format.
 */
export const startFakeEventBridge = async (answer: PutEventsAnswer = acceptAll) => {
  const requests: CapturedPutEvents[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const captured: CapturedPutEvents = { headers: req.headers, body: JSON.parse(raw), raw };
      requests.push(captured);
      const { status = 200, body } = answer(captured, requests.length - 1);
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `req-${requests.length}` });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    /** every entry published, in order, with its detail parsed */
    entries: () => requests.flatMap((r) => r.body.Entries.map((e) => ({ ...e, detail: JSON.parse(String(e.Detail)) as Record<string, any> }))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

/** Credentials and region for SDK clients pointed at a local stand-in. */
export const LOCAL_AWS = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } as const;
