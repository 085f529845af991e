import type { ItemChange } from './changes.ts';
import { clip } from './clip.ts';

/**
 * How much of each free text an item keeps. Tools cap these far lower (GitHub and Jira titles at
 * 256 and 255 characters, GitHub labels at 50), but a mail subject, a relay or a custom field may
 * carry anything, and an item record must stay within DynamoDB's 400 KB. Longer text is clipped
 * with an ellipsis, so the item is indexed and its tool keeps the whole text. (A commit's message
 * line is already cut to 200 characters by core/development.ts.)
 */
export const TEXT_BOUNDS = { title: 1_000, label: 255 } as const;

/** How far back from a bound a clip looks for a space, so that it does not cut a word (or an address) in two. */
const WORD_SEARCH = 100;

/** {@link clip}, at the last space before the bound when there is one near it. */
const clipAtWord = (text: string, max: number): string => {
  if (text.length <= max) return text;
  const space = text.lastIndexOf(' ', max - 1);
  return space >= max - WORD_SEARCH ? `${text.slice(0, space)}…` : clip(text, max);
};

/** The change with its free text within {@link TEXT_BOUNDS}; the same change when it already is. */
export const withinTextBounds = (change: ItemChange): ItemChange => {
  if (change.op !== 'upsert') return change;
  const { item } = change;
  if (item.title.length <= TEXT_BOUNDS.title && item.labels.every((label) => label.length <= TEXT_BOUNDS.label)) return change;
  return {
    ...change,
    item: { ...item, title: clipAtWord(item.title, TEXT_BOUNDS.title), labels: item.labels.map((label) => clip(label, TEXT_BOUNDS.label)) },
  };
};
