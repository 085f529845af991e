import { describe, expect, it } from 'vitest';
import { LAMBDA_MAX_BODY_BYTES, LAMBDA_PAYLOAD_BYTES, LINKED, loadLambdaConfig, requireBusName } from '../../functions/aws-config.ts';
import { ConfigError, loadConfig } from '../../functions/config.ts';

/** What `Resource` from `sst` holds inside a deployed function (the App link is always there). */
const sstLinks = (overrides: Record<string, unknown> = {}) => ({
  App: { name: 'tributary', stage: 'prod' },
  [LINKED.table]: { name: 'tributary-prod-IndexTable-abc123', type: 'sst.aws.Dynamo' },
  [LINKED.bus]: { name: 'tributary-prod-EventsBus-def456', arn: 'arn:aws:events:us-east-1:123456789012:event-bus/tributary-prod-EventsBus-def456', type: 'sst.aws.Bus' },
  [LINKED.adminToken]: { value: 'an-operator-token-from-sst-secret', type: 'sst.sst.Secret' },
  ...overrides,
});

describe('Lambda configuration', () => {
  it('comes from the SST links when the function is deployed by SST', () => {
    const config = loadLambdaConfig({ TRIBUTARY_TABLE: 'ignored-when-linked' }, sstLinks());
    expect(config).toMatchObject({
      TRIBUTARY_TABLE: 'tributary-prod-IndexTable-abc123',
      TRIBUTARY_BUS_NAME: 'tributary-prod-EventsBus-def456',
      TRIBUTARY_ADMIN_TOKEN: 'an-operator-token-from-sst-secret',
      TRIBUTARY_MAX_BODY_BYTES: LAMBDA_MAX_BODY_BYTES,
      TRIBUTARY_LOG_LEVEL: 'info',
    });
    expect(config.DYNAMODB_ENDPOINT).toBeUndefined();
  });

  it('comes from the environment, with the local mode keys, anywhere else', () => {
    const config = loadLambdaConfig({
      TRIBUTARY_TABLE: 'tributary',
      TRIBUTARY_BUS_NAME: 'bus',
      DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
      TRIBUTARY_LOG_LEVEL: 'warn',
    });
    expect(config).toMatchObject({ TRIBUTARY_TABLE: 'tributary', TRIBUTARY_BUS_NAME: 'bus', DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000', TRIBUTARY_LOG_LEVEL: 'warn' });
  });

  it('keeps a webhook body inside the 6 MB invocation payload', () => {
    expect(LAMBDA_MAX_BODY_BYTES).toBeLessThan(LAMBDA_PAYLOAD_BYTES);
    expect(() => loadLambdaConfig({ TRIBUTARY_TABLE: 'tributary', TRIBUTARY_MAX_BODY_BYTES: String(LAMBDA_PAYLOAD_BYTES) })).toThrow(/TRIBUTARY_MAX_BODY_BYTES/);
  });

  it('names every bad key at once', () => {
    const error = (() => {
      try {
        loadLambdaConfig({ TRIBUTARY_ADMIN_TOKEN: 'short', DYNAMODB_ENDPOINT: 'not a url' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    for (const key of ['TRIBUTARY_TABLE', 'TRIBUTARY_ADMIN_TOKEN', 'DYNAMODB_ENDPOINT']) expect(error?.message).toContain(key);
  });

  it('names the missing link when SST links are active but the table is not linked', () => {
    const links = sstLinks();
    delete (links as Record<string, unknown>)[LINKED.table];
    expect(() => loadLambdaConfig({}, links)).toThrow(new RegExp(LINKED.table));
  });

  it('requires the bus only where events are published', () => {
    const config = loadLambdaConfig({ TRIBUTARY_TABLE: 'tributary' });
    expect(() => requireBusName(config)).toThrow(/TRIBUTARY_BUS_NAME/);
    expect(requireBusName(loadLambdaConfig({}, sstLinks()))).toBe('tributary-prod-EventsBus-def456');
  });

  it('leaves the local mode configuration as it was', () => {
    expect(loadConfig({})).toMatchObject({ PORT: 8787, TRIBUTARY_TABLE: 'tributary', TRIBUTARY_DATA_DIR: './.data', TRIBUTARY_MAX_BODY_BYTES: 6 * 1024 * 1024 });
  });
});
