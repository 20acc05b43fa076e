import { STATUS_CHANNEL } from '../../contracts/topics.js';
import type { Refusal } from './decode-result.js';
import { WHOLE_MESSAGE } from './decode-result.js';

/**
 * Issue 7: a message on `sensors/{id}/status`. Devices and firmwares spell their
 * last-will and birth messages differently (Tasmota `Online`/`Offline`, Home Assistant
 * `online`/`offline`, `1`/`0`, JSON), so the common spellings are all understood.
 */
export type StatusResult = { ok: true; online: boolean } | { ok: false; refusal: Refusal };

const WORDS: Readonly<Record<string, boolean>> = { online: true, offline: false, '1': true, '0': false, true: true, false: false };

function fromJson(text: string): boolean | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record.online === 'boolean') return record.online;
  if (typeof record.state === 'string') return WORDS[record.state.trim().toLowerCase()];
  return undefined;
}

export function decodeStatus(text: string): StatusResult {
  const trimmed = text.trim();
  const online = trimmed.startsWith('{') ? fromJson(trimmed) : WORDS[trimmed.toLowerCase()];
  if (online !== undefined) return { ok: true, online };
  return {
    ok: false,
    refusal: {
      item: WHOLE_MESSAGE, reason: 'payload_schema',
      message: `a ${STATUS_CHANNEL} message is "online" or "offline" (or {"online": true|false}); got "${trimmed.slice(0, 40)}"`,
    },
  };
}
