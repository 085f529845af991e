import type { Connector } from '../core/connector.ts';
import { email } from './email/index.ts';
import { github } from './github/index.ts';
import { jira } from './jira/index.ts';

/** Every tool Tributary understands. Adding a tool is adding its folder and one entry here. */
export const ALL_CONNECTORS: readonly Connector[] = [github, jira, email];

export type ConnectorRegistry = ReadonlyMap<string, Connector>;

export const createConnectorRegistry = (connectors: readonly Connector[] = ALL_CONNECTORS): ConnectorRegistry =>
  new Map(connectors.map((c) => [c.source, c]));
