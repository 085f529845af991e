/**
 * Key templates, declared once. Access patterns (pk / sk, then index keys):
 *
 * | pattern                              | pk / sk                                   | index                                        |
 * |--------------------------------------|-------------------------------------------|----------------------------------------------|
 * | schema version                       | SCHEMA / SCHEMA                           |                                              |
 * | where the local retention sweep is   | RETENTION / RETENTION                     |                                              |
 * | a copy into this table: from, position | COPY / COPY (store/table-copy.ts)       |                                              |
 * | tenant by id                         | TENANT#{t} / TENANT                       | gsi1: tenants / {createdAt}#{t}              |
 * | token by id (id is part of the token)| TOKEN#{id} / TOKEN                        | gsi1: T#{t}#tokens / {createdAt}#{id}        |
 * | connection by id (webhook path)      | CONN#{id} / CONN                          | gsi1: T#{t}#connections / {createdAt}#{id}   |
 * | delivery by (tenant, source, id)     | T#{t}#DLV#{source}#{deliveryId} / DLV     | queue: inbox / {receivedAt}#{pk} (pending)   |
 * | pending deliveries (GET /v1/deliveries), newest first | (the record above)     | queue: inbox / {receivedAt}#{pk}, filtered by tenant (and connection or source); not a re-queued one (its qsk is when it was re-queued) |
 * | deliveries by status (GET /v1/deliveries, replay), newest first, once finished or re-queued | T#{t}#DLV#{source}#{deliveryId} / LIST (a listing row: no body, no headers; expires with the record) | gsi1: T#{t}#deliveries#{status} / {receivedAt}#{source}#{deliveryId}; unless processed, gsi2: T#{t}#deliveries#conn#{c}#{status} / same, gsi3: T#{t}#deliveries#source#{s}#{status} / same (processed: gsi1, filtered). Records written before listing rows carry these keys themselves until they expire (store/delivery-index.ts) |
 * | large delivery body, in parts        | same pk / PART#{sha}#{n}                  |                                              |
 * | item by id, with index rows          | T#{t}#ITEM#{id} / ITEM                    | gsi1: T#{t}#items / {updatedAt}#{id}         |
 * | items by status category             |                                           | gsi2: T#{t}#status#{category} / …            |
 * | items by container                   |                                           | gsi3: T#{t}#container#{source}:{key} / …     |
 * | items by owner / label (one row each)| T#{t}#{name}#{value} / {updatedAt}#{id} (schema 5; before: T#{t}#ITEM#{id} / FACET#{name}#{value} on gsi1, moved by the upgrade) |     |
 * | who links to an item (reverse edges) | T#{t}#ITEM#{target} / IN#{from}#{type}    |                                              |
 * | whether rows of others wait there    | T#{t}#ITEM#{id} / INBOUND                 |                                              |
 * | known Jira projects of a tenant      | T#{t}#JIRA_PROJECTS / PROJECT#{key}       |                                              |
 * | another ref of an item (alias)       | T#{t}#ALIAS#{alias} / ALIAS               |                                              |
 * | a change waiting for its item        | T#{t}#ITEM#{id} / PENDING#{causation}     |                                              |
 * | items with unpublished events (before the event log) |                           | queue: outbox / {time}#{pk}                  |
 * | event log, per tenant and day        | T#{t}#LOG#{yyyy-mm-dd} / E#{cursor}       | gsi2: T#{t}#events#{subject} / {cursor}      |
 * | events not yet published (outbox marker: `cursors` of up to 100 events) | T#{t}#LOG#{yyyy-mm-dd} / O#{first cursor} | queue: outbox / {first cursor}#{t} |
 * | event too large for one bus entry    | T#{t}#EVENT#{eventId} / EVENT (+ PART#{n}) |                                              |
 * | backfill job by id                   | JOB#{id} / JOB                            | gsi1: T#{t}#jobs / {createdAt}#{id}; queue: jobs / {createdAt}#{pk} (running) |
 * | a connection's running backfill      | CONN#{id} / BACKFILL                      |                                              |
 * | the running replay of a scope        | T#{t}#REPLAYS / ACTIVE#{conn|*}#{since|*}#{until|now} |                                |
 * | a connection's reconciliation state  | CONN#{id} / RECONCILE                     |                                              |
 * | summary counters, in shards          | T#{t}#AGG / SHARD#{n}                     |                                              |
 * | what an item adds to the counters    | T#{t}#AGGC#{n} / C#{itemId}               | queue: aggregates / {time}#{pk} (in flight)  |
 * | what its blocked flag adds to them   | T#{t}#AGGC#{n} / B#{itemId}               | queue: aggregates / {time}#{pk} (in flight)  |
 * | team map of a tenant (PUT /v1/teams) | T#{t}#TEAMS / TEAMS                       |                                              |
 * | people seen as owners or requesters  | T#{t}#PEOPLE / P#{personId}               |                                              |
 * | former audit of merges (read only)   | T#{t}#PEOPLE_AUDIT / {at}#{auditId}       |                                              |
 * | dependency state of an item (blocked)| T#{t}#ITEM#{id} / DEPS                    | gsi1: T#{t}#blocked / {updatedAt}#{id} (sparse: blocked only); none for most items (a missing row is the empty state); rows written before carry gsi3: watch / {t}#{id}, read by nothing now |
 * | alert, in its subject's partition    | T#{t}#ITEM#{subject} / ALERT#{alertId}    | gsi1: T#{t}#alerts / {openedAt}#{alertId}; gsi2: T#{t}#alerts#state#{s}; gsi3: T#{t}#alerts#kind#{k}; queue: outbox (pending events) |
 * | alert thresholds of a tenant         | T#{t}#SETTINGS / SETTINGS                 |                                              |
 * | manual link (POST /v1/links)         | T#{t}#LINK#{linkId} / LINK                | gsi1: T#{t}#links / {createdAt}#{linkId}     |
 * | audit log of admin actions           | T#{t}#AUDIT / {at}#{auditId}              | gsi1: T#{t}#audit#{action} / {at}#{auditId}  |
 * | snapshot of an analysing view        | T#{t}#VIEWS / {view}#{parameters hash}    |                                              |
 * | erased people: identifier hashes     | T#{t}#ERASED / H#{sha256} → pseudonym; E#{sha256 of person id} → erasure job |      |
 * | erasure and tenant purge jobs        | JOB#{id} / JOB (kind erasure, tenant-purge) | gsi1: T#{t}#jobs; queue: operations / {createdAt}#{pk} (running) |
 * | people with one verified email       | T#{t}#VEMAIL#{salted sha256 of email} / VEMAIL |                                         |
 * | weekly digest of a tenant or team    | T#{t}#DIGEST / {isoWeek}#{team or *}      |                                              |
 * | weekly digests done for every tenant | DIGESTS / {isoWeek}                       |                                              |
 * | an item in progress of a person/team | T#{t}#WIP / {person:p_…|team:name}#{itemId} |                                            |
 * | evaluation tickets of a person/team  | T#{t}#WIPSEQ / {person:p_…|team:name}     |                                              |
 * | the alert sweep's lease and cursor   | SWEEP#alerts / LEASE                      |                                              |
 * | failed dashboard sign-ins per address | SIGNIN#{sha256 of address} / W#{window start} (TTL) |                               |
 * | webhook subscriptions of a tenant    | T#{t}#SUBS / SUB#{subId}                  | gsi3: subscriptions / {t}#{subId} (every subscription of the hub, for the dispatcher) |
 * | an event queued for a subscription   | T#{t}#SUB#{subId} / D#{eventId}           | queue: webhooks#{subId} / {nextAt}#{eventId} (pending only) |
 * | one delivery attempt of it           | T#{t}#SUB#{subId} / A#{at}#{eventId}#{n}  |                                              |
 *
 * Summary counters (`GET /v1/views/summary`, see store/aggregates.ts): one Query of `T#{t}#AGG` reads
 * the tenant's AGGREGATE_SHARDS counter rows, whatever the size of the index. An item's contribution
 * row sits in the partition of its shard, so repairing a shard is one strongly consistent Query.
 */
import { identifierHash } from '../core/erasure.ts';
import { sha256Hex } from '../core/ids.ts';

/** DynamoDB caps partition keys at 2048 bytes; long foreign ids (email Message-IDs) are hashed. */
const keySafe = (value: string): string => (value.length <= 200 ? value : `sha256:${sha256Hex(value)}`);

/** The partition of one owner key or label's entries. */
const facetPartition = (tenantId: string, name: string, value: string) => `T#${tenantId}#${name}#${keySafe(value)}`;

/** The sort keys of owner and label rows in an item's partition, as schema version 4 and before wrote them. */
const LEGACY_FACET_PREFIX = 'FACET#';

export const keys = {
  schema: () => ({ pk: 'SCHEMA', sk: 'SCHEMA' }),
  /** the position and outcome of a copy into this table, from the table it names */
  tableCopy: () => ({ pk: 'COPY', sk: 'COPY' }),
  bootstrap: () => ({ pk: 'BOOTSTRAP', sk: 'BOOTSTRAP' }),
  tenant: (tenantId: string) => ({ pk: `TENANT#${tenantId}`, sk: 'TENANT' }),
  /** every tenant on gsi1, for hub-wide figures (open alerts in GET /metrics) */
  tenantsIndex: 'tenants',
  token: (tokenId: string) => ({ pk: `TOKEN#${tokenId}`, sk: 'TOKEN' }),
  tokensOf: (tenantId: string) => `T#${tenantId}#tokens`,
  connection: (connectionId: string) => ({ pk: `CONN#${connectionId}`, sk: 'CONN' }),
  connectionsOf: (tenantId: string) => `T#${tenantId}#connections`,
  delivery: (tenantId: string, source: string, deliveryId: string) => ({
    pk: `T#${tenantId}#DLV#${source}#${keySafe(deliveryId)}`,
    sk: 'DLV',
  }),
  deliveryPart: (deliveryPk: string, bodySha: string, n: number) => ({ pk: deliveryPk, sk: `PART#${bodySha.slice(0, 16)}#${n}` }),
  /** what the deliveries listing shows of a finished or re-queued delivery, in the record's partition (store/delivery-index.ts) */
  deliveryListing: (deliveryPk: string) => ({ pk: deliveryPk, sk: 'LIST' }),
  /** deliveries of a tenant in one status (gsi1), of one connection (gsi2) or one source (gsi3) */
  deliveriesByStatus: (tenantId: string, status: string) => `T#${tenantId}#deliveries#${status}`,
  deliveriesByConnection: (tenantId: string, connectionId: string, status: string) => `T#${tenantId}#deliveries#conn#${connectionId}#${status}`,
  deliveriesBySource: (tenantId: string, source: string, status: string) => `T#${tenantId}#deliveries#source#${source}#${status}`,
  /** where the local retention sweep stopped in its pass over the table */
  retentionSweep: () => ({ pk: 'RETENTION', sk: 'RETENTION' }),
  item: (tenantId: string, itemId: string) => ({ pk: `T#${tenantId}#ITEM#${itemId}`, sk: 'ITEM' }),
  /** an item's entry under one owner key or label, in the partition of that value, newest first (store/items.ts `facetRowsOf`) */
  facetEntry: (tenantId: string, name: string, value: string, updatedAt: string, itemId: string) => ({
    pk: facetPartition(tenantId, name, value),
    sk: `${updatedAt}#${itemId}`,
  }),
  /** the sort key under which schema version 4 and before kept an item's facet row in its partition, listed on gsi1 (moved by store/schema-upgrade.ts) */
  legacyFacetSk: (name: string, value: string) => `${LEGACY_FACET_PREFIX}${name}#${keySafe(value)}`,
  legacyFacetPrefix: LEGACY_FACET_PREFIX,
  /** written with every reverse edge and kept change in an item's partition (store/items.ts `inboundMarkerRow`) */
  inbound: (tenantId: string, itemId: string) => ({ pk: `T#${tenantId}#ITEM#${itemId}`, sk: 'INBOUND' }),
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
  /** whether `pk` is a partition of owner or label entries (store/items.ts `FACETS`) */
  isFacetPartition: (tenantId: string, pk: string) => ['owner', 'label'].some((name) => pk.startsWith(facetPartition(tenantId, name, ''))),
  /** the partition of one owner key or label (table rows since schema 5, gsi1 before) */
  itemsByFacet: facetPartition,
  /** sort key of every "items by …" index: newest first when scanned backwards */
  byUpdated: (updatedAt: string, itemId: string) => `${updatedAt}#${itemId}`,
  /** an event in its tenant's log (store/event-log.ts), in the partition of its day */
  logEntry: (tenantId: string, day: string, cursor: string) => ({ pk: `T#${tenantId}#LOG#${day}`, sk: `E#${cursor}` }),
  /** an outbox marker of logged events (by the first of its cursors), deleted once they are published */
  outboxMarker: (tenantId: string, day: string, cursor: string) => ({ pk: `T#${tenantId}#LOG#${day}`, sk: `O#${cursor}` }),
  outboxMarkerPrefix: 'O#',
  /** one subject's events on gsi2 (an item's ref, `person:p_…`, `team:{name}`) */
  eventsOfSubject: (tenantId: string, subject: string) => `T#${tenantId}#events#${keySafe(subject)}`,
  /** an event published as a pointer because it exceeds the bus entry limit; its body in parts */
  eventPayload: (tenantId: string, eventId: string) => ({ pk: `T#${tenantId}#EVENT#${eventId}`, sk: 'EVENT' }),
  eventPayloadPart: (tenantId: string, eventId: string, n: number) => ({ pk: `T#${tenantId}#EVENT#${eventId}`, sk: `PART#${n}` }),
  aggregateShards: (tenantId: string) => `T#${tenantId}#AGG`,
  aggregateShard: (tenantId: string, shard: number) => ({ pk: `T#${tenantId}#AGG`, sk: `SHARD#${shard}` }),
  contributionsOf: (tenantId: string, shard: number) => `T#${tenantId}#AGGC#${shard}`,
  contribution: (tenantId: string, shard: number, itemId: string) => ({ pk: `T#${tenantId}#AGGC#${shard}`, sk: `C#${itemId}` }),
  /** what an item's derived blocked flag adds to the counters, versioned by its dependency state */
  blockedContribution: (tenantId: string, shard: number, itemId: string) => ({ pk: `T#${tenantId}#AGGC#${shard}`, sk: `B#${itemId}` }),
  teamMap: (tenantId: string) => ({ pk: `T#${tenantId}#TEAMS`, sk: 'TEAMS' }),
  peopleOf: (tenantId: string) => `T#${tenantId}#PEOPLE`,
  person: (tenantId: string, personId: string) => ({ pk: `T#${tenantId}#PEOPLE`, sk: `P#${personId}` }),
  /** merges and splits written before they moved to the general audit log; read by GET /v1/people/audit only */
  peopleAuditOf: (tenantId: string) => `T#${tenantId}#PEOPLE_AUDIT`,
  job: (jobId: string) => ({ pk: `JOB#${jobId}`, sk: 'JOB' }),
  jobsOf: (tenantId: string) => `T#${tenantId}#jobs`,
  /** at most one running backfill per connection: this row names it */
  activeBackfill: (connectionId: string) => ({ pk: `CONN#${connectionId}`, sk: 'BACKFILL' }),
  reconcileState: (connectionId: string) => ({ pk: `CONN#${connectionId}`, sk: 'RECONCILE' }),
  /** at most one running replay per (connection, since, until) of a tenant: this row names it */
  activeReplay: (tenantId: string, scope: string) => ({ pk: `T#${tenantId}#REPLAYS`, sk: `ACTIVE#${scope}` }),
  /** the derived dependency state of an item: its open blockers, the cycles it is in, `blocked` */
  dependencyState: (tenantId: string, itemId: string) => ({ pk: `T#${tenantId}#ITEM#${itemId}`, sk: 'DEPS' }),
  itemsBlocked: (tenantId: string) => `T#${tenantId}#blocked`,
  alert: (tenantId: string, subjectId: string, alertId: string) => ({ pk: `T#${tenantId}#ITEM#${subjectId}`, sk: `ALERT#${alertId}` }),
  alertsOf: (tenantId: string) => `T#${tenantId}#alerts`,
  alertsByState: (tenantId: string, state: string) => `T#${tenantId}#alerts#state#${state}`,
  alertsByKind: (tenantId: string, kind: string) => `T#${tenantId}#alerts#kind#${kind}`,
  byOpened: (openedAt: string, alertId: string) => `${openedAt}#${alertId}`,
  settings: (tenantId: string) => ({ pk: `T#${tenantId}#SETTINGS`, sk: 'SETTINGS' }),
  manualLink: (tenantId: string, linkId: string) => ({ pk: `T#${tenantId}#LINK#${linkId}`, sk: 'LINK' }),
  linksOf: (tenantId: string) => `T#${tenantId}#links`,
  auditOf: (tenantId: string) => `T#${tenantId}#AUDIT`,
  viewSnapshot: (tenantId: string, name: string) => ({ pk: `T#${tenantId}#VIEWS`, sk: name }),
  auditEntry: (tenantId: string, at: string, auditId: string) => ({ pk: `T#${tenantId}#AUDIT`, sk: `${at}#${auditId}` }),
  /** one action's entries (`GET /v1/audit?action=`), newest first on gsi1 */
  auditByAction: (tenantId: string, action: string) => `T#${tenantId}#audit#${action}`,
  /** work in progress per person and team (store/wip.ts): one row per (subject, item), counted with one strongly consistent Query */
  wipOf: (tenantId: string) => `T#${tenantId}#WIP`,
  wipMember: (tenantId: string, subjectKey: string, itemId: string) => ({ pk: `T#${tenantId}#WIP`, sk: `${keySafe(subjectKey)}#${itemId}` }),
  /** the evaluation ticket counter of a person or team (store/ordered-alerts.ts) */
  wipTicket: (tenantId: string, subjectKey: string) => ({ pk: `T#${tenantId}#WIPSEQ`, sk: keySafe(subjectKey) }),
  /** failed sign-ins of one client address in one window (store/sign-in-throttle.ts); the address only as a hash */
  signInFailures: (addressHash: string, windowStart: number) => ({ pk: `SIGNIN#${addressHash}`, sk: `W#${windowStart}` }),
  /** who runs a sweep now, until when, and where it stopped (pipeline/sweep-lease.ts) */
  sweepLease: (name: string) => ({ pk: `SWEEP#${name}`, sk: 'LEASE' }),
  /** the people a verified email address was seen on (store/verified-email-merge.ts); keyed by the tombstone's salted hash, never the address */
  verifiedEmail: (tenantId: string, email: string) => ({ pk: `T#${tenantId}#VEMAIL#${identifierHash(tenantId, email)}`, sk: 'VEMAIL' }),
  /** a weekly digest and whether it was published (pipeline/weekly-digest.ts) */
  digest: (tenantId: string, isoWeek: string, team: string | undefined) => ({ pk: `T#${tenantId}#DIGEST`, sk: `${isoWeek}#${keySafe(team ?? '*')}` }),
  digestsDone: (isoWeek: string) => ({ pk: 'DIGESTS', sk: isoWeek }),
  /** hashes of erased people's identifiers (→ pseudonym) and one row per erased person id (→ its job) */
  erasuresOf: (tenantId: string) => `T#${tenantId}#ERASED`,
  erasedIdentifier: (tenantId: string, hash: string) => ({ pk: `T#${tenantId}#ERASED`, sk: `H#${hash}` }),
  erasureOf: (tenantId: string, personHash: string) => ({ pk: `T#${tenantId}#ERASED`, sk: `E#${personHash}` }),
  /** webhook subscriptions (store/subscriptions.ts): all of a tenant's in one partition, read with one strongly consistent Query */
  subscriptionsOf: (tenantId: string) => `T#${tenantId}#SUBS`,
  subscription: (tenantId: string, subscriptionId: string) => ({ pk: `T#${tenantId}#SUBS`, sk: `SUB#${subscriptionId}` }),
  /** every subscription of the hub on gsi3, which the dispatcher's passes walk */
  subscriptionsIndex: 'subscriptions',
  /** a subscription's queued events (`D#`) and attempts (`A#`, newest last) */
  subscriptionPartition: (tenantId: string, subscriptionId: string) => `T#${tenantId}#SUB#${subscriptionId}`,
  subscriptionDelivery: (tenantId: string, subscriptionId: string, eventId: string) => ({ pk: `T#${tenantId}#SUB#${subscriptionId}`, sk: `D#${eventId}` }),
  subscriptionAttempt: (tenantId: string, subscriptionId: string, at: string, eventId: string, attempt: number) => ({
    pk: `T#${tenantId}#SUB#${subscriptionId}`,
    sk: `A#${at}#${eventId}#${String(attempt).padStart(2, '0')}`,
  }),
  /** a subscription's pending deliveries on the queue index, due first: one partition per subscription, so a dead receiver's backlog never holds up another's */
  webhookQueue: (subscriptionId: string) => `webhooks#${subscriptionId}`,
  queue: { inbox: 'inbox', outbox: 'outbox', aggregates: 'aggregates', jobs: 'jobs', operations: 'operations', webhooks: 'webhooks' },
} as const;
