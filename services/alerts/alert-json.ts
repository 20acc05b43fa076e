import type { Alert } from '../../storage/alerts-store.js';

/** Issue 7: an alert as the API answers it and as the live stream carries it — one shape for both. */

const iso = (date: Date | undefined) => date?.toISOString() ?? null;

export function alertJson(alert: Alert) {
  return {
    id: alert.id, rule: alert.ruleId, device: alert.deviceId, metric: alert.metric, severity: alert.severity,
    domain: alert.domain ?? null, district: alert.district ?? null, state: alert.state,
    openedAt: alert.openedAt.toISOString(), openValue: alert.openValue ?? null,
    acknowledgedAt: iso(alert.acknowledgedAt), acknowledgedBy: alert.acknowledgedBy ?? null, note: alert.ackNote ?? null,
    clearedAt: iso(alert.clearedAt), clearedBy: alert.clearedBy ?? null, clearValue: alert.clearValue ?? null,
  };
}

export type AlertJson = ReturnType<typeof alertJson>;

/** What happened to an alert: `opened` by a rule, `acknowledged` by an operator, `cleared` by its condition or by hand. */
export type AlertChange = 'opened' | 'acknowledged' | 'cleared';

export interface AlertEvent {
  change: AlertChange;
  alert: AlertJson;
}
