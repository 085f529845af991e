/**
 * Former name of store/scan-page.ts (the scan is not tenant-specific): kept until pipeline/erasure.ts
 * imports `scanPage` from there.
 * @deprecated import `scanPage` from `./scan-page.ts`
 */
export { type ScanPage, scanPage as scanTenantPage } from './scan-page.ts';
