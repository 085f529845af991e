/**
 * Secrets, set per stage before the first deploy:
 *   npx sst secret set AdminToken "$(openssl rand -base64 32)" --stage prod
 * The admin token is the operator token (TRIBUTARY_ADMIN_TOKEN locally): admin of tenant `default`
 * and the only token that creates tenants. Tool credentials are per connection and live in the table.
 */
export const adminToken = new sst.Secret('AdminToken');
