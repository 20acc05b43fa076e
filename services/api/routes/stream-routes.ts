import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DOMAINS } from '../../../contracts/metric-catalogue.js';
import { findDevice } from '../../../storage/devices-store.js';
import { compareEventIds, EVENT_ID_PATTERN, type LiveEntry } from '../../live/live-entries.js';
import type { ApiContext } from '../api-context.js';
import { badParameter, ProblemError } from '../problem.js';

const LIST = (item: string) => `^${item}{1,64}(,${item}{1,64}){0,99}$`;
/** Most missed readings and alert changes sent to a client that reconnects; older ones are left to the readings query. */
const MAX_REPLAY = 10_000;

const streamQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    device: { type: 'string', pattern: LIST('[A-Za-z0-9._-]'), description: 'Comma-separated device ids; all when absent.' },
    metric: { type: 'string', pattern: LIST('[a-z0-9_]'), description: 'Comma-separated catalogue keys; all when absent.' },
    domain: { type: 'string', enum: [...DOMAINS] },
    lastEventId: { type: 'string', pattern: EVENT_ID_PATTERN.source, description: 'As the Last-Event-ID header, for clients that cannot set headers.' },
    events: { type: 'string', pattern: '^(reading|alert)(,(reading|alert))?$', description: 'Comma-separated event types: reading, alert; both when absent.' },
  },
} as const;

/** The device, metric and domain an entry is about; `metric` is '' for an alert on the device as a whole. */
interface Subject {
  device: string;
  metric: string;
  /** Known for alerts; looked up for readings. */
  domain: string | null | undefined;
}

function subjectOf(entry: LiveEntry): Subject {
  if (entry.alert !== undefined) return { device: entry.alert.alert.device, metric: entry.alert.alert.metric, domain: entry.alert.alert.domain };
  return { device: entry.reading.device, metric: entry.reading.metric, domain: undefined };
}

function lastEventId(request: FastifyRequest, fromQuery: string | undefined): string | undefined {
  const raw = request.headers['last-event-id'];
  const header = Array.isArray(raw) ? raw[0] : raw;
  if (header !== undefined && header !== '' && !EVENT_ID_PATTERN.test(header)) throw badParameter('header', 'last-event-id', 'is not an event id this stream sent');
  return header === undefined || header === '' ? fromQuery : header;
}

/**
 * Server-Sent Events of readings as workers commit them and of alert changes (issue 7:
 * `event: alert`, `{change, alert}`) (services/live), filtered by device, metric and domain, with heartbeat comments so proxies keep the connection,
 * and resumption: a client that reconnects with Last-Event-ID first gets what it missed.
 */
export async function streamRoutes(app: FastifyInstance, context: ApiContext): Promise<void> {
  const open = new Set<() => void>();
  // SSE connections never go idle; end them so close() does not wait for clients.
  app.addHook('preClose', async () => {
    for (const end of open) end();
  });

  app.get('/api/v1/stream', { schema: { querystring: streamQuery } }, async (request, reply) => {
    await context.requireRole(request, 'reader');
    const query = request.query as { device?: string; metric?: string; domain?: string; lastEventId?: string; events?: string };
    const resumeAfter = lastEventId(request, query.lastEventId);
    const live = context.live;
    if (live === undefined) throw new ProblemError('unavailable', 503, 'the live stream needs Redis, which this API process is not given');
    const devices = query.device === undefined ? undefined : new Set(query.device.split(','));
    const metrics = query.metric === undefined ? undefined : new Set(query.metric.split(','));
    const types = new Set(query.events?.split(',') ?? ['reading', 'alert']);
    const domains = new Map<string, Promise<string | undefined>>();
    const domainOf = (id: string) => {
      let found = domains.get(id);
      if (found === undefined) {
        found = findDevice(context.db, id).then((device) => device?.domain, () => undefined);
        domains.set(id, found);
      }
      return found;
    };

    let lastSent = resumeAfter ?? '0-0';
    let chain = Promise.resolve();
    let ended = false;
    const write = (text: string) => {
      if (!ended) reply.raw.write(text);
    };
    const send = (entry: LiveEntry) => {
      // In order, once: replay and the live feed may overlap.
      chain = chain.then(async () => {
        if (compareEventIds(entry.id, lastSent) <= 0) return;
        if (!types.has(entry.alert === undefined ? 'reading' : 'alert')) return;
        const subject = subjectOf(entry);
        if (devices !== undefined && !devices.has(subject.device)) return;
        // A device-wide alert (offline, stale clock) concerns every metric of the device.
        if (metrics !== undefined && subject.metric !== '' && !metrics.has(subject.metric)) return;
        if (query.domain !== undefined && (subject.domain === undefined ? await domainOf(subject.device) : subject.domain) !== query.domain) return;
        if (compareEventIds(entry.id, lastSent) <= 0) return;
        lastSent = entry.id;
        if (entry.alert !== undefined) {
          write(`id: ${entry.id}\nevent: alert\ndata: ${JSON.stringify(entry.alert)}\n\n`);
          return;
        }
        const data = { ...entry.reading, unit: context.catalogue.get(entry.reading.metric)?.unit ?? null };
        write(`id: ${entry.id}\nevent: reading\ndata: ${JSON.stringify(data)}\n\n`);
      });
    };

    const subscription = live.subscribe(send);
    const timers: { heartbeat?: NodeJS.Timeout } = {};
    const end = () => {
      if (ended) return;
      ended = true;
      subscription.unsubscribe();
      clearInterval(timers.heartbeat);
      open.delete(end);
      reply.raw.end();
    };
    try {
      await subscription.ready;
    } catch {
      subscription.unsubscribe();
      throw new ProblemError('unavailable', 503, 'the live stream is not reachable (Redis)');
    }
    reply.hijack();
    reply.raw.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    open.add(end);
    request.raw.on('close', end);
    write('retry: 2000\n: connected\n\n');
    timers.heartbeat = setInterval(() => write(`: heartbeat ${new Date().toISOString()}\n\n`), context.liveHeartbeatMs ?? 15_000);
    timers.heartbeat.unref();
    if (resumeAfter !== undefined) {
      for (const entry of await live.replay(resumeAfter, MAX_REPLAY).catch(() => [])) send(entry);
    }
  });
}
