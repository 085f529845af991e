/** The text, or its first `max - 1` characters and an ellipsis when it is longer. */
export const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
