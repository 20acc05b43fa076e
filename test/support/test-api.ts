import { METRIC_CATALOGUE } from '../../contracts/metric-catalogue.js';
import type { ApiContext } from '../../services/api/api-context.js';
import { createRoleGuard } from '../../services/api/authenticate.js';
import { createApi, type Api, type ApiOptions } from '../../services/api/create-api.js';
import type { Database } from '../../storage/database.js';
import { loadMetricDictionary, type MetricDictionary } from '../../storage/metric-dictionary.js';
import { migrate, type MigrationReport } from '../../storage/migrate.js';
import { createPgliteDatabase } from '../../storage/pglite-database.js';

export interface TestApiOptions {
  /** The bootstrap admin key the API accepts. */
  adminKey: string;
  /** Listener options beyond host and port: body limit, rate limit, CORS, metrics. */
  http?: Omit<ApiOptions, 'host' | 'port'>;
  /** Context entries replacing the defaults; given the database, e.g. for readiness checks. */
  context?: (db: Database) => Partial<ApiContext>;
}

export interface TestApi {
  db: Database;
  dictionary: MetricDictionary;
  storage: MigrationReport;
  server: Api;
  /** `http://127.0.0.1:<port>` */
  base: string;
}

/**
 * The HTTP API alone, as the api role serves it, on a fresh in-memory PGlite+TimescaleDB
 * database and a free port on 127.0.0.1. The caller closes `server`, then `db`.
 */
export async function startTestApi(options: TestApiOptions): Promise<TestApi> {
  const db = await createPgliteDatabase({ dataDir: undefined });
  const storage = await migrate(db);
  const dictionary = await loadMetricDictionary(db, [...METRIC_CATALOGUE.keys()]);
  const server = await createApi({ host: '127.0.0.1', port: 0, ...options.http }, {
    db,
    dictionary,
    catalogue: METRIC_CATALOGUE,
    maxReadings: 500,
    requireRole: createRoleGuard({ db, bootstrapAdminKey: options.adminKey }),
    mqtt: { port: 1883, wsPort: undefined },
    readiness: [],
    ...options.context?.(db),
  });
  return { db, dictionary, storage, server, base: `http://127.0.0.1:${server.port}` };
}
