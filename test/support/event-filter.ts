/**
 * Lambda event filtering, the subset Tributary's stream filters use: objects match field by field,
 * an array lists the accepted values, `{ exists: boolean }` tests presence, and a record matches a
 * list of patterns when it matches any (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html).
 */
const matches = (pattern: unknown, value: unknown): boolean => {
  if (Array.isArray(pattern)) {
    return pattern.some((accepted) => {
      if (accepted && typeof accepted === 'object' && 'exists' in accepted) return (value !== undefined) === Boolean(accepted.exists);
      return value === accepted;
    });
  }
  if (pattern && typeof pattern === 'object') {
    return Object.entries(pattern).every(([key, sub]) => {
      const field = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
      if (Array.isArray(sub) && sub.some((s) => s && typeof s === 'object' && 'exists' in s)) return matches(sub, field);
      return field !== undefined && matches(sub, field);
    });
  }
  throw new Error(`unsupported filter pattern: ${JSON.stringify(pattern)}`);
};

export const matchesAnyFilter = (patterns: readonly Record<string, unknown>[], record: unknown): boolean =>
  patterns.some((pattern) => matches(pattern, record));
