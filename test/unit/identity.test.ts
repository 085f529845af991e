import { describe, expect, it } from 'vitest';
import { type IdentityRecord, planVerifiedEmailMerge } from '../../core/identity.ts';
import { senderIsVerified } from '../../connectors/email/sender-verdict.ts';
import { personOfGithubUser } from '../../connectors/github/people.ts';
import { personOfJiraUser } from '../../connectors/jira/people.ts';
import { readHeaders } from '../../connectors/email/header-section.ts';
import { cloudPayload, dataCenterPayload } from '../fixtures/jira-examples.ts';
import { githubExample } from '../fixtures/github-examples.ts';
import { emailFixture, emailJsonFixture } from '../support/email.ts';

const record = (id: string, firstSeenAt: string, extra: Partial<IdentityRecord> = {}): IdentityRecord => ({ id, firstSeenAt, splitFrom: [], ...extra });

describe('verified email addresses, as each tool vouches for them', () => {
  it('takes the address of an Atlassian account (Jira Cloud), not one typed into Jira Data Center', () => {
    const alana = personOfJiraUser(cloudPayload('issue-updated-acme-101-in-progress').issue.fields.assignee);
    expect(alana?.verifiedEmails).toEqual(['alana@acme.example']);
    const dataCenter = dataCenterPayload();
    const dcUser = personOfJiraUser(dataCenter.issue.fields.assignee ?? dataCenter.user);
    expect(dcUser?.emails.length).toBeGreaterThan(0);
    expect(dcUser?.verifiedEmails).toBeUndefined();
    const app = personOfJiraUser({ ...cloudPayload('issue-updated-acme-101-in-progress').issue.fields.assignee, accountType: 'app' });
    expect(app?.verifiedEmails).toBeUndefined();
  });

  it("takes a GitHub user's public profile address, which GitHub only allows among verified ones", () => {
    const user = structuredClone((githubExample('issues', 'assigned').payload as any).issue.user);
    expect(personOfGithubUser(user).verifiedEmails).toBeUndefined();
    expect(personOfGithubUser({ ...user, email: 'Octo@Example.com' }).verifiedEmails).toEqual(['octo@example.com']);
  });

  it('trusts the receiving system’s topmost SPF or DKIM verdict about the From domain, and nothing the sender wrote', () => {
    const ses = readHeaders(emailFixture('ses-message.eml'));
    expect(senderIsVerified(ses, 'carol@partner.example')).toBe(true);
    expect(senderIsVerified(ses, 'mallory@other.example')).toBe(false);
    const postmark = emailJsonFixture('postmark-inbound.json');
    const headers = (postmark.Headers as { Name: string; Value: string }[]).map((h) => ({ name: h.Name.toLowerCase(), value: h.Value }));
    expect(senderIsVerified(headers, postmark.FromFull.Email)).toBe(true);
    // A message with a DKIM signature but no receiver's verdict is not verified.
    expect(senderIsVerified(readHeaders(emailFixture('request-multipart-qp.eml')), 'ana.lima@customer.example')).toBe(false);

    const authResults = (value: string) => [{ name: 'authentication-results', value }];
    expect(senderIsVerified(authResults('mx.acme.example; dkim=pass header.d=partner.example header.s=s1; spf=fail'), 'carol@partner.example')).toBe(true);
    expect(senderIsVerified(authResults('mx.acme.example; spf=pass smtp.mailfrom=bounce@mailer.example'), 'carol@partner.example')).toBe(false);
    expect(senderIsVerified(authResults('mx.acme.example; dkim=fail header.d=partner.example; spf=softfail smtp.mailfrom=partner.example'), 'carol@partner.example')).toBe(false);
    // A pass inside a comment, nested or not, is no verdict.
    expect(senderIsVerified(authResults('mx.acme.example (outer (inner) ; dkim=pass header.d=partner.example ); spf=fail'), 'carol@partner.example')).toBe(false);
    expect(senderIsVerified(authResults('mx.acme.example; dkim=pass (signed (key s1)) header.d=partner.example'), 'carol@partner.example')).toBe(true);
    // The receiver's verdict is on top; a forged pass further down is never read.
    const forged = [
      { name: 'authentication-results', value: 'mx.acme.example; spf=fail smtp.mailfrom=partner.example' },
      { name: 'authentication-results', value: 'mx.acme.example; dkim=pass header.d=partner.example' },
    ];
    expect(senderIsVerified(forged, 'carol@partner.example')).toBe(false);
  });
});

describe('the automatic merge on a verified email', () => {
  it('merges the people who share it into the one seen first', () => {
    const records = [record('p_email', '2024-03-02T00:00:00Z'), record('p_jira', '2024-03-01T00:00:00Z'), record('p_github', '2024-03-03T00:00:00Z')];
    expect(planVerifiedEmailMerge(records, ['p_email', 'p_jira', 'p_github'])).toEqual({ into: 'p_jira', absorb: ['p_email', 'p_github'] });
    expect(planVerifiedEmailMerge(records, ['p_email'])).toBeUndefined();
  });

  it('treats people already merged as their group, and plans nothing once they are one', () => {
    const records = [record('p_a', '2024-03-01T00:00:00Z'), record('p_b', '2024-03-02T00:00:00Z', { mergedInto: 'p_a' })];
    expect(planVerifiedEmailMerge(records, ['p_a', 'p_b'])).toBeUndefined();
    const three = [...records, record('p_c', '2024-03-03T00:00:00Z')];
    expect(planVerifiedEmailMerge(three, ['p_b', 'p_c'])).toEqual({ into: 'p_a', absorb: ['p_c'] });
  });

  it('never undoes a manual split', () => {
    const records = [record('p_a', '2024-03-01T00:00:00Z'), record('p_b', '2024-03-02T00:00:00Z', { splitFrom: ['p_a'] }), record('p_c', '2024-03-03T00:00:00Z')];
    expect(planVerifiedEmailMerge(records, ['p_a', 'p_b'])).toBeUndefined();
    expect(planVerifiedEmailMerge(records, ['p_a', 'p_b', 'p_c'])).toEqual({ into: 'p_a', absorb: ['p_c'] });
  });
});
