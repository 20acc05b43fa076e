import type { DeviceProfile } from '../../contracts/device-profile.js';
import type { MetricDefinition } from '../../contracts/metric-catalogue.js';
import type { Database } from '../../storage/database.js';
import type { MetricDictionary } from '../../storage/metric-dictionary.js';
import type { AlertEvent } from '../alerts/alert-json.js';
import type { LiveFeed } from '../live/live-feed.js';
import type { RequireRole } from './authenticate.js';

/** One named dependency check for /readyz. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<Record<string, unknown> | void>;
}

/** What every route module is given: the stack's parts, never process.env. */
export interface ApiContext {
  db: Database;
  dictionary: MetricDictionary;
  catalogue: ReadonlyMap<string, MetricDefinition>;
  requireRole: RequireRole;
  readiness: readonly ReadinessCheck[];
  /** Told to devices at registration, so they know where to connect; `undefined`: that listener is off. */
  mqtt: { port: number | undefined; wsPort: number | undefined; tlsPort?: number | undefined; wssPort?: number | undefined };
  /** Largest page of raw readings. */
  maxReadings: number;
  /** Vendor profiles a device may be registered with (DEVICE_PROFILES_FILE). @defaultValue none */
  profiles?: ReadonlyMap<string, DeviceProfile>;
  /** Committed readings as they arrive, for GET /api/v1/stream; without it that route answers 503. @defaultValue none */
  live?: LiveFeed;
  /** Heartbeat comment interval on the live stream. @defaultValue 15000 */
  liveHeartbeatMs?: number;
  /** Told of acknowledgements and manual clears once committed (the live stream carries them). @defaultValue none */
  alertsChanged?: (events: readonly AlertEvent[]) => void;
}
