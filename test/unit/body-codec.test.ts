import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BODY_DICTIONARIES, UnreadableBodyError, decodeBody, encodeBody } from '../../store/body-codec.ts';
import { githubExamples } from '../fixtures/github-examples.ts';
import { jiraFixture } from '../fixtures/jira-examples.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const average = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** GitHub's examples of the supported events as another organization's payloads: they share only their shape with the dictionary. */
const githubBodies = ['issues', 'pull_request', 'pull_request_review', 'issue_comment']
  .flatMap((event) => githubExamples(event))
  .map((e) => Buffer.from(JSON.stringify(e.payload).replaceAll('Codertocat', 'acme-corp').replaceAll('Hello-World', 'widgets')));
const jiraBodies = ['issue-created-acme-101', 'issue-created-acme-102', 'issue-created-acme-103', 'issue-created-acme-104-adf-description', 'issue-updated-acme-101-done'].map(
  (name) => Buffer.from(JSON.stringify(jiraFixture(`cloud/${name}`))),
);

describe('stored delivery bodies', () => {
  it('come back byte for byte, whatever their source', () => {
    for (const [source, body] of [['github', githubBodies[0]!], ['jira', jiraBodies[0]!], ['email', Buffer.from('From: a@example.com\r\n\r\nhello')], ['github', Buffer.alloc(0)]] as const) {
      const { compressed, encoding } = encodeBody(source, body);
      expect(Buffer.compare(decodeBody(compressed, encoding), body)).toBe(0);
    }
  });

  it('of GitHub and Jira are deflated with their tool\'s dictionary, and mail stays gzip', () => {
    expect(encodeBody('github', githubBodies[0]!).encoding).toBe('deflate-raw:github-1');
    expect(encodeBody('jira', jiraBodies[0]!).encoding).toBe('deflate-raw:jira-1');
    expect(encodeBody('email', Buffer.from('x')).encoding).toBeUndefined();
  });

  it('are read as gzip when their record names no encoding, as every record did before', () => {
    expect(decodeBody(gzipSync('{"action":"opened"}'), undefined).toString()).toBe('{"action":"opened"}');
  });

  it('that cannot be read say why and what to do, rather than give garbage', () => {
    expect(() => decodeBody(Buffer.from('x'), 'deflate-raw:github-9')).toThrow(/cannot read: upgrade it, then retry the delivery/);
    expect(() => decodeBody(Buffer.from('x'), 'deflate-raw:toString')).toThrow(UnreadableBodyError);
    expect(() => decodeBody(Buffer.from('not compressed'), 'deflate-raw:github-1')).toThrow(/does not decompress/);
    expect(encodeBody('constructor', Buffer.from('x')).encoding).toBeUndefined();
  });

  it('are about 40 % smaller than gzip on payloads that share only their shape with the dictionary', () => {
    const ratio = (bodies: Buffer[], source: string) => average(bodies.map((b) => encodeBody(source, b).compressed.length)) / average(bodies.map((b) => gzipSync(b).length));
    expect(ratio(githubBodies, 'github')).toBeLessThan(0.7);
    expect(ratio(jiraBodies, 'jira')).toBeLessThan(0.75);
  });

  it('keep their dictionaries byte for byte: every body compressed with one needs it to be read', () => {
    // A dictionary that must change gets a new name (github-2); these never do.
    expect(Object.fromEntries(Object.entries(BODY_DICTIONARIES).map(([name, bytes]) => [name, sha256(bytes)]))).toEqual({
      'github-1': '5db51c9a9bacffbc3a44145323219bbf5b0b8c8167361d28fcf943424ce2f3e8',
      'jira-1': '999a76ddf0139cbdadd3922b54b589605746f8b6f0232db3dd533a53d9e73d56',
    });
  });
});
