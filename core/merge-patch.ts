/**
 * JSON Merge Patch (RFC 7396): objects merge member by member, `null` removes a member, anything
 * else (arrays included) replaces it. Pure; returns a new value.
 */
export const applyMergePatch = (target: unknown, patch: unknown): unknown => {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [name, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete result[name];
    else result[name] = applyMergePatch(result[name], value);
  }
  return result;
};

/** The value at a dotted path (`credentials.token`), or undefined. */
export const valueAtPath = (value: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((node, part) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined), value);
