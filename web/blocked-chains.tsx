import type { BlockedChain } from '../core/blocked-chains.ts';

const SOURCE_NAMES = { github: 'GitHub', jira: 'Jira', email: 'email' } as const;

/**
 * The overview's blocked chains: each one a line of linked items, blocker first, the item that
 * waits on all of them last. Text from the tools goes through hono/jsx, which escapes it.
 */
export const BlockedChains = (props: { chains: readonly BlockedChain[] }) => (
  <section aria-label="blocked chains">
    <h2>Blocked chains</h2>
    {props.chains.length === 0 ? (
      <p>Nothing is blocked by another open item.</p>
    ) : (
      <ol class="chains">
        {props.chains.map((chain) => (
          <li data-chain-length={String(chain.items.length)}>
            {chain.items.map((item, i) => (
              <>
                {i > 0 ? <span aria-label="blocks"> → </span> : null}
                <a href={`/items/${encodeURIComponent(item.id)}`} data-ref={item.ref} title={item.ref}>
                  <span class="status">{SOURCE_NAMES[item.source]}</span> {item.title}
                </a>
              </>
            ))}
          </li>
        ))}
      </ol>
    )}
  </section>
);
