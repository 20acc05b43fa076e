import { describe, expect, it } from 'vitest';
import { decodeStatus } from './decode-status.js';

describe('status messages (sensors/{id}/status: MQTT wills and births)', () => {
  it.each([
    ['online', true], ['offline', false], ['Online', true], [' OFFLINE\n', false], ['1', true], ['0', false],
    ['true', true], ['false', false], ['{"online": true}', true], ['{"online": false}', false], ['{"state": "Offline"}', false],
  ])('reads %j as online = %s', (text, online) => {
    expect(decodeStatus(text)).toEqual({ ok: true, online });
  });

  it.each(['', 'maybe', '2', '{"online": "yes"}', '{"state": 1}', '[true]', '{"online": true', 'null'])('refuses %j with a reason a person can read', (text) => {
    const result = decodeStatus(text);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.refusal.reason).toBe('payload_schema');
      expect(result.refusal.message).toContain('"online" or "offline"');
    }
  });
});
