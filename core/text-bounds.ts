import type { ItemChange } from './changes.ts';
import { clip } from './clip.ts';

/**
 * How much of each free text an item keeps. Tools cap these far lower (GitHub and Jira titles at
 * 256 and 255 characters, GitHub labels at 50), but a mail subject, a relay or a custom field may
 * carry anything, and an item record must stay within DynamoDB's 400 KB. Longer text is clipped
 * with an ellipsis, so the item is indexed and its tool keeps the whole text.
 */
export const TEXT_BOUNDS = { title: 1_000, label: 255, commitMessage: 1_000 } as const;

/** The change with its free text within {@link TEXT_BOUNDS}; the same change when it already is. */
export const withinTextBounds = (change: ItemChange): ItemChange => {
  if (change.op === 'upsert') {
    const { item } = change;
    const long = item.title.length > TEXT_BOUNDS.title || item.labels.some((label) => label.length > TEXT_BOUNDS.label);
    if (!long) return change;
    return {
      ...change,
      item: { ...item, title: clip(item.title, TEXT_BOUNDS.title), labels: item.labels.map((label) => clip(label, TEXT_BOUNDS.label)) },
    };
  }
  if (change.op === 'development' && change.commits.some((commit) => commit.message.length > TEXT_BOUNDS.commitMessage)) {
    return { ...change, commits: change.commits.map((commit) => ({ ...commit, message: clip(commit.message, TEXT_BOUNDS.commitMessage) })) };
  }
  return change;
};
