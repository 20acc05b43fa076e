/**
 * ISO 8601 instants as the platform accepts them: date, time and a UTC offset or Z.
 * Without an offset a time is ambiguous (device local time or UTC?), so it is refused
 * rather than guessed — in Tianjin a guess is eight hours wrong.
 */
export const ISO_INSTANT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** Epoch milliseconds of an ISO 8601 instant with offset; `undefined` when it is not one. */
export function parseIsoInstant(raw: string): number | undefined {
  if (!ISO_INSTANT_PATTERN.test(raw)) return undefined;
  const ms = Date.parse(raw);
  return Number.isNaN(ms) ? undefined : ms;
}
