/**
 * postal-mime, loaded when the first message is read rather than when a function starts: it is
 * about 90 KB of every Lambda bundle (its HTML entity table alone is half of that), and only the
 * processing of an email delivery uses it. The ack path reads header fields with its own reader
 * (header-section.ts).
 */
let loading: Promise<typeof import('postal-mime')> | undefined;

export const loadMimeParser = (): Promise<typeof import('postal-mime')> => {
  loading ??= import('postal-mime').catch((error: unknown) => {
    // A failed load (a broken install) is not kept: the next message tries again.
    loading = undefined;
    throw error;
  });
  return loading;
};
