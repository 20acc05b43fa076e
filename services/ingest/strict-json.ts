import type { QuarantineReason } from '../../contracts/error-codes.js';

/**
 * JSON as devices send it, read strictly. JSON.parse silently keeps the last of two equal
 * keys (RFC 8259 §4 leaves duplicates undefined), so `{"co": 1, "co": 2}` would store a
 * value the device may not have meant; and nesting has no limit. This reader parses with
 * JSON.parse, then scans the text once, iteratively, for both.
 */

/** No payload format the platform reads nests deeper than this. */
export const MAX_JSON_DEPTH = 32;

export type StrictJsonResult =
  | { ok: true; value: unknown }
  | { ok: false; reason: Extract<QuarantineReason, 'payload_not_json' | 'payload_schema' | 'payload_duplicate_key'>; message: string };

interface Frame {
  object: boolean;
  keys: Set<string> | undefined;
  expectKey: boolean;
  path: string;
  lastKey: string;
}

function keyOf(raw: string): string {
  return raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
}

/** Scans text that JSON.parse accepted: nesting depth and duplicate keys. */
function scan(text: string, maxDepth: number): StrictJsonResult | undefined {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    const top = stack.at(-1);
    if (char === '"') {
      const start = i;
      for (i += 1; text[i] !== '"'; i += 1) if (text[i] === '\\') i += 1;
      if (top?.object && top.expectKey) {
        const key = keyOf(text.slice(start, i + 1));
        if (top.keys?.has(key)) {
          return { ok: false, reason: 'payload_duplicate_key', message: `key "${key.slice(0, 64)}" appears twice in the object at ${top.path}` };
        }
        top.keys?.add(key);
        top.lastKey = key;
        top.expectKey = false;
      }
    } else if (char === '{' || char === '[') {
      if (stack.length >= maxDepth) return { ok: false, reason: 'payload_schema', message: `JSON nests deeper than ${maxDepth} levels` };
      const path = top === undefined ? '$' : top.object ? `${top.path}.${top.lastKey.slice(0, 32)}` : `${top.path}[]`;
      stack.push({ object: char === '{', keys: char === '{' ? new Set() : undefined, expectKey: true, path, lastKey: '' });
    } else if (char === '}' || char === ']') {
      stack.pop();
    } else if (char === ',' && top?.object) {
      top.expectKey = true;
    }
  }
  return undefined;
}

export function parseStrictJson(text: string, maxDepth = MAX_JSON_DEPTH): StrictJsonResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: 'payload_not_json', message: `payload is not valid JSON: ${(error as Error).message.slice(0, 200)}` };
  }
  return scan(text, maxDepth) ?? { ok: true, value };
}
