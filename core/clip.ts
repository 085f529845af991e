/**
 * The text, or its first `max - 1` characters and an ellipsis when it is longer; a character
 * outside the Basic Multilingual Plane (an emoji) is never split into half a surrogate pair.
 */
export const clip = (text: string, max: number): string => {
  if (text.length <= max) return text;
  const cut = /[\uD800-\uDBFF]/.test(text[max - 2] ?? '') ? max - 2 : max - 1;
  return `${text.slice(0, cut)}…`;
};
