import { onceSucceeded } from '../../core/once.ts';

/**
 * postal-mime, loaded when the first message is read rather than when a function starts: it is
 * about 90 KB of every Lambda bundle (its HTML entity table alone is half of that), and only the
 * processing of an email delivery uses it. The ack path reads header fields with its own reader
 * (header-section.ts). A failed load (a broken install) is not kept: the next message tries again.
 */
export const loadMimeParser = onceSucceeded(() => import('postal-mime'));
