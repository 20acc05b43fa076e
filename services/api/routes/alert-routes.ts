import type { FastifyInstance } from 'fastify';
import { SEVERITIES, validateRule, type AlertRule, type Severity } from '../../alerts/alert-rule.js';
import { deleteRule, findRule, insertRule, listRules, replaceRule, type StoredRule } from '../../../storage/alert-rules-store.js';
import { acknowledgeAlert, ALERT_STATES, clearAlertManually, findAlert, listAlerts, type Alert, type AlertState } from '../../../storage/alerts-store.js';
import { alertJson } from '../../alerts/alert-json.js';
import type { ApiContext } from '../api-context.js';
import { badParameter, ProblemError } from '../problem.js';

/** Issue 7: alerts (list, acknowledge, clear) and alert rules (CRUD). */

const ruleJson = (stored: StoredRule) => ({ ...stored.rule, builtin: stored.builtin, createdAt: stored.createdAt.toISOString(), updatedAt: stored.updatedAt.toISOString() });

const listPattern = (values: readonly string[]) => `^(${values.join('|')})(,(${values.join('|')}))*$`;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    state: { type: 'string', pattern: listPattern(ALERT_STATES), description: 'Comma-separated: open, acknowledged, cleared.' },
    severity: { type: 'string', pattern: listPattern(SEVERITIES), description: 'Comma-separated: info, warning, critical.' },
    domain: { type: 'string', maxLength: 64 },
    district: { type: 'string', maxLength: 128 },
    device: { type: 'string', maxLength: 64 },
    from: { type: 'string', format: 'date-time', description: 'Alerts opened at or after.' },
    to: { type: 'string', format: 'date-time', description: 'Alerts opened before.' },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    cursor: { type: 'string', maxLength: 200, description: "The previous page's nextCursor." },
  },
} as const;

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9]{1,18}$' } } } as const;
const ruleParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;
const ackBody = {
  type: 'object', required: ['note'], additionalProperties: false,
  properties: { note: { type: 'string', minLength: 1, maxLength: 2000 } },
} as const;
const clearBody = { type: 'object', additionalProperties: false, properties: { note: { type: 'string', maxLength: 2000 } } } as const;
const ruleBody = { type: 'object', description: 'An alert rule; see docs/alerts.md.' } as const;

function encodeCursor(alert: Alert): string {
  return Buffer.from(`${alert.openedAt.toISOString()}|${alert.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { openedAt: Date; id: string } {
  const [time, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const openedAt = new Date(time ?? '');
  if (id === undefined || !/^\d{1,18}$/.test(id) || Number.isNaN(openedAt.getTime())) throw badParameter('query', 'cursor', 'not a cursor this API returned');
  return { openedAt, id };
}

export async function alertRoutes(app: FastifyInstance, context: ApiContext): Promise<void> {
  app.get('/api/v1/alerts', { schema: { querystring: listQuery } }, async (request) => {
    await context.requireRole(request, 'reader');
    const query = request.query as { state?: string; severity?: string; domain?: string; district?: string; device?: string; from?: string; to?: string; limit: number; cursor?: string };
    const alerts = await listAlerts(context.db, {
      states: query.state?.split(',') as AlertState[] | undefined,
      severities: query.severity?.split(',') as Severity[] | undefined,
      domain: query.domain, district: query.district, deviceId: query.device,
      from: query.from === undefined ? undefined : new Date(query.from),
      to: query.to === undefined ? undefined : new Date(query.to),
      after: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
      limit: query.limit,
    });
    const last = alerts.at(-1);
    return { alerts: alerts.map(alertJson), nextCursor: alerts.length === query.limit && last !== undefined ? encodeCursor(last) : null };
  });

  app.get('/api/v1/alerts/:id', { schema: { params: idParams } }, async (request) => {
    await context.requireRole(request, 'reader');
    const { id } = request.params as { id: string };
    const alert = await findAlert(context.db, id);
    if (alert === undefined) throw new ProblemError('not_found', 404, `no alert ${id}`);
    return alertJson(alert);
  });

  app.post('/api/v1/alerts/:id/ack', { schema: { params: idParams, body: ackBody } }, async (request) => {
    const principal = await context.requireRole(request, 'operator');
    const { id } = request.params as { id: string };
    const { note } = request.body as { note: string };
    const acked = await acknowledgeAlert(context.db, id, principal.keyId, note);
    if (acked !== undefined) {
      const json = alertJson(acked);
      context.alertsChanged?.([{ change: 'acknowledged', alert: json }]);
      return json;
    }
    const alert = await findAlert(context.db, id);
    if (alert === undefined) throw new ProblemError('not_found', 404, `no alert ${id}`);
    throw new ProblemError('conflict', 409, `alert ${id} is ${alert.state}; only an open alert can be acknowledged`);
  });

  app.post('/api/v1/alerts/:id/clear', { schema: { params: idParams, body: clearBody } }, async (request) => {
    const principal = await context.requireRole(request, 'operator');
    const { id } = request.params as { id: string };
    const cleared = await clearAlertManually(context.db, id, principal.keyId);
    if (cleared !== undefined) {
      const json = alertJson(cleared);
      context.alertsChanged?.([{ change: 'cleared', alert: json }]);
      return json;
    }
    const alert = await findAlert(context.db, id);
    if (alert === undefined) throw new ProblemError('not_found', 404, `no alert ${id}`);
    throw new ProblemError('conflict', 409, `alert ${id} is cleared already`);
  });

  const validated = (body: unknown): AlertRule => {
    const result = validateRule(body, (key) => context.catalogue.has(key));
    if (!result.ok) {
      throw new ProblemError('bad_request', 400, result.errors.join('; '), result.errors.map((message) => ({ in: 'body' as const, name: message.split(' ')[0] ?? '(root)', message })));
    }
    return result.rule;
  };

  app.get('/api/v1/rules', { schema: {} }, async (request) => {
    await context.requireRole(request, 'reader');
    return { rules: (await listRules(context.db)).map(ruleJson) };
  });

  app.get('/api/v1/rules/:id', { schema: { params: ruleParams } }, async (request) => {
    await context.requireRole(request, 'reader');
    const { id } = request.params as { id: string };
    const stored = await findRule(context.db, id);
    if (stored === undefined) throw new ProblemError('not_found', 404, `no rule "${id}"`);
    return ruleJson(stored);
  });

  app.post('/api/v1/rules', { schema: { body: ruleBody } }, async (request, reply) => {
    await context.requireRole(request, 'admin');
    const rule = validated(request.body);
    const stored = await insertRule(context.db, rule);
    if (stored === undefined) throw new ProblemError('conflict', 409, `rule "${rule.id}" exists already`);
    return reply.code(201).header('location', `/api/v1/rules/${rule.id}`).send(ruleJson(stored));
  });

  app.put('/api/v1/rules/:id', { schema: { params: ruleParams, body: ruleBody } }, async (request) => {
    await context.requireRole(request, 'admin');
    const { id } = request.params as { id: string };
    const body = request.body as { id?: unknown };
    if (body.id !== undefined && body.id !== id) throw badParameter('body', 'id', `must be "${id}" (the rule in the path) or absent`);
    const rule = validated({ ...body, id });
    const stored = await context.db.transaction((tx) => replaceRule(tx, rule));
    if (stored === undefined) throw new ProblemError('not_found', 404, `no rule "${id}"`);
    return ruleJson(stored);
  });

  app.delete('/api/v1/rules/:id', { schema: { params: ruleParams } }, async (request, reply) => {
    await context.requireRole(request, 'admin');
    const { id } = request.params as { id: string };
    if (!(await deleteRule(context.db, id))) throw new ProblemError('not_found', 404, `no rule "${id}"`);
    return reply.code(204).send();
  });
}
