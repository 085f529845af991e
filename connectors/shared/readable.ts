/**
 * Whether a container (repository, project) can be read with a connection's credentials, asked at
 * most once per run. 401/403/404 mean "no": tools answer 404 for what a token cannot see, which is
 * why a 404 for one item is only a deletion when its container is still readable.
 */
export const memoizedReadable = (probe: (container: string) => Promise<unknown>, statusOf: (error: unknown) => number | undefined) => {
  const known = new Map<string, boolean>();
  return async (container: string): Promise<boolean> => {
    if (!known.has(container)) {
      const readable = await probe(container).then(
        () => true,
        (error: unknown) => {
          const status = statusOf(error);
          if (status === 401 || status === 403 || status === 404) return false;
          throw error;
        },
      );
      known.set(container, readable);
    }
    return known.get(container)!;
  };
};
