import { UnsupportedMediaTypeError } from '../../../core/errors.ts';
import { verifyBodySignature } from '../auth.ts';
import { readMessageHeaders } from '../header-section.ts';
import { messageFromMime } from '../message.ts';
import { type EmailProviderAdapter, contentIdOf, deliveryIdFor, mediaTypeOf } from '../provider.ts';

/**
 * `raw`: a raw RFC 5322 message posted as `message/rfc822`, signed with the connection secret
 * (`X-Tributary-Signature`). The universal path: a mail server's pipe-to-HTTP, or a script.
 */
export const rawProvider: EmailProviderAdapter = {
  prefix: 'raw',
  verify: (request, connection) => verifyBodySignature(request, connection),
  receive(request, _connection, settings) {
    const mediaType = mediaTypeOf(request.headers['content-type']);
    if (mediaType !== 'message/rfc822') {
      throw new UnsupportedMediaTypeError(
        `Expected Content-Type message/rfc822 (a raw RFC 5322 message), got ${mediaType || 'none'}.`,
      );
    }
    // Only the header section is read here: the body is parsed by the processor.
    const headers = readMessageHeaders(request.body, 'The body');
    return { event: 'raw.message', deliveryId: deliveryIdFor(headers, settings.address, request.body) };
  },
  read: async (delivery) => ({ message: await messageFromMime(delivery.body), contentId: contentIdOf(delivery.body) }),
};
