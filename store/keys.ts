/**
 * Key templates, declared once. Access patterns (pk / sk, then index keys):
 *
 * | pattern                              | pk / sk                                   | index                                        |
 * |--------------------------------------|-------------------------------------------|----------------------------------------------|
 * | schema version                       | SCHEMA / SCHEMA                           |                                              |
 * | tenant by id                         | TENANT#{t} / TENANT                       |                                              |
 * | token by id (id is part of the token)| TOKEN#{id} / TOKEN                        | gsi1: T#{t}#tokens / {createdAt}#{id}        |
 * | connection by id (webhook path)      | CONN#{id} / CONN                          | gsi1: T#{t}#connections / {createdAt}#{id}   |
 * | delivery by (tenant, source, id)     | T#{t}#DLV#{source}#{deliveryId} / DLV     | queue: inbox / {receivedAt}#{pk} (pending)   |
 * | large delivery body, in parts        | same pk / PART#{sha}#{n}                  |                                              |
 * | item by id, with index rows          | T#{t}#ITEM#{id} / ITEM                    | gsi1: T#{t}#items / {updatedAt}#{id}         |
 * | items by status category             |                                           | gsi2: T#{t}#status#{category} / …            |
 * | items by container                   |                                           | gsi3: T#{t}#container#{source}:{key} / …     |
 * | items by owner / label (one row each)| T#{t}#ITEM#{id} / FACET#{name}#{value}    | gsi1: T#{t}#{name}#{value} / {updatedAt}#{id}|
 * | who links to an item (reverse edges) | T#{t}#ITEM#{target} / IN#{from}#{type}    |                                              |
 * | known Jira projects of a tenant      | T#{t}#JIRA_PROJECTS / PROJECT#{key}       |                                              |
 * | another ref of an item (alias)       | T#{t}#ALIAS#{alias} / ALIAS               |                                              |
 * | a change waiting for its item        | T#{t}#ITEM#{id} / PENDING#{causation}     |                                              |
 * | items with unpublished events        |                                           | queue: outbox / {time}#{pk}                  |
 * | event too large for one bus entry    | T#{t}#EVENT#{eventId} / EVENT (+ PART#{n}) |                                              |
 */
import { sha256Hex } from '../core/ids.ts';

/** DynamoDB caps partition keys at 2048 bytes; long foreign ids (email Message-IDs) are hashed. */
const keySafe = (value: string): string => (value.length <= 200 ? value : `sha256:${sha256Hex(value)}`);

export const keys = {
  schema: () => ({ pk: 'SCHEMA', sk: 'SCHEMA' }),
  bootstrap: () => ({ pk: 'BOOTSTRAP', sk: 'BOOTSTRAP' }),
  tenant: (tenantId: string) => ({ pk: `TENANT#${tenantId}`, sk: 'TENANT' }),
  token: (tokenId: string) => ({ pk: `TOKEN#${tokenId}`, sk: 'TOKEN' }),
  tokensOf: (tenantId: string) => `T#${tenantId}#tokens`,
  connection: (connectionId: string) => ({ pk: `CONN#${connectionId}`, sk: 'CONN' }),
  connectionsOf: (tenantId: string) => `T#${tenantId}#connections`,
  delivery: (tenantId: string, source: string, deliveryId: string) => ({
    pk: `T#${tenantId}#DLV#${source}#${keySafe(deliveryId)}`,
    sk: 'DLV',
  }),
  deliveryPart: (deliveryPk: string, bodySha: string, n: number) => ({ pk: deliveryPk, sk: `PART#${bodySha.slice(0, 16)}#${n}` }),
  item: (tenantId: string, itemId: string) => ({ pk: `T#${tenantId}#ITEM#${itemId}`, sk: 'ITEM' }),
  facet: (tenantId: string, itemId: string, name: string, value: string) => ({
    pk: `T#${tenantId}#ITEM#${itemId}`,
    sk: `FACET#${name}#${keySafe(value)}`,
  }),
  incomingEdge: (tenantId: string, targetId: string, fromId: string, type: string) => ({
    pk: `T#${tenantId}#ITEM#${targetId}`,
    sk: `IN#${fromId}#${type}`,
  }),
  /** one row per Jira project key seen in the tenant, all read with one strongly consistent query */
  jiraProjectsOf: (tenantId: string) => `T#${tenantId}#JIRA_PROJECTS`,
  jiraProject: (tenantId: string, projectKey: string) => ({ pk: `T#${tenantId}#JIRA_PROJECTS`, sk: `PROJECT#${projectKey}` }),
  /** a provisional ref, a tool id or a former ref → the ref of the item it names */
  refAlias: (tenantId: string, alias: string) => ({ pk: `T#${tenantId}#ALIAS#${keySafe(alias)}`, sk: 'ALIAS' }),
  /** a link, activity or delete change that arrived before its item was indexed */
  pendingChange: (tenantId: string, itemId: string, causationKey: string) => ({
    pk: `T#${tenantId}#ITEM#${itemId}`,
    sk: `PENDING#${keySafe(causationKey)}`,
  }),
  itemsOf: (tenantId: string) => `T#${tenantId}#items`,
  itemsByStatus: (tenantId: string, category: string) => `T#${tenantId}#status#${category}`,
  itemsByContainer: (tenantId: string, containerKey: string) => `T#${tenantId}#container#${keySafe(containerKey)}`,
  itemsByFacet: (tenantId: string, name: string, value: string) => `T#${tenantId}#${name}#${keySafe(value)}`,
  /** sort key of every "items by …" index: newest first when scanned backwards */
  byUpdated: (updatedAt: string, itemId: string) => `${updatedAt}#${itemId}`,
  /** an event published as a pointer because it exceeds the bus entry limit; its body in parts */
  eventPayload: (tenantId: string, eventId: string) => ({ pk: `T#${tenantId}#EVENT#${eventId}`, sk: 'EVENT' }),
  eventPayloadPart: (tenantId: string, eventId: string, n: number) => ({ pk: `T#${tenantId}#EVENT#${eventId}`, sk: `PART#${n}` }),
  queue: { inbox: 'inbox', outbox: 'outbox' },
} as const;
