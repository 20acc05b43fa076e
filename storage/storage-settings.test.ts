import { describe, expect, it } from 'vitest';
import { hasColumnstoreApi } from './migrations/timescale-rollups.js';
import { DEFAULT_STORAGE_SETTINGS, intervalOf, storageSettingsProblems } from './storage-settings.js';
import { desiredPolicies } from './timescale-policies.js';

const HOUR = 3_600_000;

describe('storage settings', () => {
  it('accept the defaults and keep-everything', () => {
    expect(storageSettingsProblems(DEFAULT_STORAGE_SETTINGS)).toEqual([]);
    expect(storageSettingsProblems({ ...DEFAULT_STORAGE_SETTINGS, rawRetentionDays: 0, rollup1mRetentionDays: 0, rollup1hRetentionDays: 0 })).toEqual([]);
  });

  it('refuse rollups kept for less time than the raw readings they summarise, and a raw retention within the refresh margin', () => {
    const problems = (overrides: Partial<typeof DEFAULT_STORAGE_SETTINGS>) => storageSettingsProblems({ ...DEFAULT_STORAGE_SETTINGS, ...overrides });
    expect(problems({ rawRetentionDays: 365, rollup1mRetentionDays: 30 })).toEqual([
      'STORAGE_ROLLUP_1M_RETENTION_DAYS must be 0 (keep) or at least STORAGE_RAW_RETENTION_DAYS (365), got 30',
    ]);
    expect(problems({ rawRetentionDays: 0, rollup1mRetentionDays: 800 })).toHaveLength(1);
    expect(problems({ rollup1hRetentionDays: 400 })).toEqual(['STORAGE_ROLLUP_1H_RETENTION_DAYS must be 0 (keep) or at least STORAGE_ROLLUP_1M_RETENTION_DAYS']);
    expect(problems({ rawRetentionDays: 1, rollup1mRetentionDays: 0 })).toEqual(['STORAGE_RAW_RETENTION_DAYS must be 0 (keep) or more than 1, got 1']);
  });

  it('write intervals PostgreSQL reads back exactly', () => {
    expect([intervalOf(60_000), intervalOf(1500), intervalOf(24 * HOUR)]).toEqual(['60 seconds', '1500 milliseconds', '86400 seconds']);
    expect(() => intervalOf(0)).toThrow(/positive/);
  });
});

describe('TimescaleDB policies from the settings', () => {
  it('refresh from a day inside raw retention, or all history when raw is kept forever', () => {
    const refresh = (rawRetentionDays: number) =>
      desiredPolicies({ ...DEFAULT_STORAGE_SETTINGS, rawRetentionDays, rollup1mRetentionDays: 0 }).filter((policy) => policy.kind === 'refresh');
    expect(refresh(365)).toEqual([
      { kind: 'refresh', relation: 'rollup_1m', setting: '364 days', endOffset: '1 minute', schedule: '60 seconds' },
      { kind: 'refresh', relation: 'rollup_1h', setting: '364 days', endOffset: '1 hour', schedule: '60 seconds' },
    ]);
    expect(refresh(0).map((policy) => policy.setting)).toEqual([null, null]);
  });

  it('compress and drop only what the settings ask for', () => {
    const kinds = (overrides: Partial<typeof DEFAULT_STORAGE_SETTINGS>) =>
      desiredPolicies({ ...DEFAULT_STORAGE_SETTINGS, ...overrides }).filter((policy) => policy.kind !== 'refresh').map((p) => `${p.kind} ${p.relation} ${p.setting}`);
    expect(kinds({})).toEqual(['compression readings 7 days', 'retention readings 365 days', 'retention rollup_1m 730 days']);
    expect(kinds({ compressAfterDays: 0, rawRetentionDays: 0, rollup1mRetentionDays: 0 })).toEqual([]);
  });

  it('use the columnstore names from TimescaleDB 2.18 on', () => {
    expect(['2.17.2', '2.18.0', '2.23.0-dev', '3.0.0', undefined].map(hasColumnstoreApi)).toEqual([false, true, true, true, false]);
  });
});
