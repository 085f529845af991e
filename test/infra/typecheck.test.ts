import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureSstPlatform } from '../../scripts/sst-platform.ts';

const ROOT = join(import.meta.dirname, '../..');

describe('infrastructure code', () => {
  it(
    'type-checks sst.config.ts and infra/ strictly against the SST platform from `sst install --stage ci`',
    () => {
      ensureSstPlatform('ci');
      const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'infra/tsconfig.json', '--listFiles'], {
        cwd: ROOT,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      const errors = tsc.stdout.split('\n').filter((line) => line.includes('error TS'));
      expect(errors, errors.join('\n')).toEqual([]);
      expect(tsc.status, tsc.stderr).toBe(0);
      const checked = tsc.stdout.split('\n').map((line) => line.replace(`${ROOT}/`, ''));
      for (const file of ['sst.config.ts', 'infra/storage.ts', 'infra/bus.ts', 'infra/api.ts', 'infra/jobs.ts', 'infra/secrets.ts', 'infra/subscriptions.ts', '.sst/platform/config.d.ts']) {
        expect(checked, file).toContain(file);
      }
    },
    8 * 60_000,
  );
});
