import type { Context } from 'hono';

/**
 * The address a request came from, as the runtime saw it: the socket's peer in local mode
 * (@hono/node-server passes the Node request as `env.incoming`), the source IP API Gateway or the
 * Function URL recorded in AWS (hono/aws-lambda passes `env.requestContext`). Never a header such as
 * `X-Forwarded-For`, which the client writes itself: anything keyed by it could be dodged at will.
 * Undefined when the runtime says nothing (`app.request()` in tests).
 */
export const clientAddressOf = (c: Context): string | undefined => {
  const env = c.env as
    | { incoming?: { socket?: { remoteAddress?: string } }; requestContext?: { http?: { sourceIp?: string }; identity?: { sourceIp?: string } } }
    | undefined;
  return env?.incoming?.socket?.remoteAddress ?? env?.requestContext?.http?.sourceIp ?? env?.requestContext?.identity?.sourceIp;
};
