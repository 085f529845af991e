import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDb } from '../../store/db.ts';

/** The credentials and region a table handle signs its requests with (nothing is sent). */
const signing = async (endpoint?: string) => {
  const { config } = createDb({ table: 't', ...(endpoint ? { endpoint } : {}) }).doc;
  const credentials = await config.credentials();
  return { accessKeyId: credentials.accessKeyId, region: await config.region() };
};

describe('the client of a table', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('signs for a local engine, on any host, with placeholder credentials', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDFROMENV');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    expect(await signing('http://127.0.0.1:8000')).toEqual({ accessKeyId: 'local', region: expect.any(String) });
    expect(await signing('http://dynamodb-local:8000')).toMatchObject({ accessKeyId: 'local' });
    expect(await signing('http://ec2-203-0-113-5.compute-1.amazonaws.com:8000')).toMatchObject({ accessKeyId: 'local' });
  });

  it("signs for DynamoDB on AWS with the default credential chain, in the endpoint's region", async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDFROMENV');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    vi.stubEnv('AWS_REGION', 'us-east-1');
    expect(await signing('https://dynamodb.eu-west-1.amazonaws.com')).toEqual({ accessKeyId: 'AKIDFROMENV', region: 'eu-west-1' });
    expect(await signing('https://vpce-0a1b.dynamodb.ap-south-1.vpce.amazonaws.com')).toEqual({ accessKeyId: 'AKIDFROMENV', region: 'ap-south-1' });
    expect(await signing('https://dynamodb-fips.us-gov-west-1.amazonaws.com')).toEqual({ accessKeyId: 'AKIDFROMENV', region: 'us-gov-west-1' });
    expect(await signing()).toEqual({ accessKeyId: 'AKIDFROMENV', region: 'us-east-1' });
  });
});
