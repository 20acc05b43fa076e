import type { ConnectionOptions } from 'bullmq';

/**
 * BullMQ connection options for a Redis URL. `maxRetriesPerRequest: null` is what
 * BullMQ requires for workers (blocking commands must wait through reconnects); a
 * producer that would rather fail fast passes a number.
 */
export function redisConnection(url: string, maxRetriesPerRequest: number | null = null): ConnectionOptions {
  return { url, maxRetriesPerRequest, enableReadyCheck: true };
}
