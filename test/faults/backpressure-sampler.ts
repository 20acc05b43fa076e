import { setTimeout as delay } from 'node:timers/promises';
import type { BackpressureState } from '../../gateways/mqtt/backpressure-policy.js';

/** The broker's backpressure as a Prometheus scrape of its process shows it (docs/backpressure.md). */
export interface BrokerGauges {
  state: BackpressureState | undefined;
  backlogMessages: number;
  heldMessages: number;
  /** urbansense_mqtt_refused_total by reason. */
  refused: Record<string, number>;
  /** urbansense_mqtt_backpressure_transitions_total by the state entered. */
  transitions: Record<string, number>;
  /** urbansense_mqtt_held_total: messages held at least once. */
  heldTotal: number;
}

/** A labelled counter's values by its one label. */
function byLabel(text: string, name: string, label: string): Record<string, number> {
  const values: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}\\{${label}="([a-z_]+)"\\} (\\d+)$`).exec(line);
    if (match !== null) values[match[1]!] = Number(match[2]);
  }
  return values;
}

function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

export async function readBrokerGauges(apiUrl: string): Promise<BrokerGauges> {
  const response = await fetch(`${apiUrl}/metrics`);
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  const text = await response.text();
  const states: BackpressureState[] = ['normal', 'slowing', 'refusing'];
  return {
    state: states.find((state) => sample(text, 'urbansense_mqtt_backpressure_state', `{state="${state}"}`) === 1),
    backlogMessages: sample(text, 'urbansense_mqtt_backlog_messages') ?? Number.NaN,
    heldMessages: sample(text, 'urbansense_mqtt_held_messages') ?? Number.NaN,
    refused: byLabel(text, 'urbansense_mqtt_refused_total', 'reason'),
    transitions: byLabel(text, 'urbansense_mqtt_backpressure_transitions_total', 'to'),
    heldTotal: sample(text, 'urbansense_mqtt_held_total') ?? 0,
  };
}

/** Peaks of what a sampler saw while a run was under way. */
export interface Peaks {
  /** Largest backlog the broker reported. */
  reportedBacklog: number;
  /** Largest number of readings found in the queue's unprocessed jobs, counted by the test itself. */
  queuedReadings: number;
  heldMessages: number;
  samples: number;
}

/**
 * Samples the broker's gauges and, independently, the readings in the queue's unprocessed
 * jobs every `everyMs` until `stop()`; `stop()` resolves with the peaks.
 */
export function samplePeaks(apiUrl: string, countQueued: () => Promise<number>, everyMs = 100): { stop(): Promise<Peaks> } {
  const peaks: Peaks = { reportedBacklog: 0, queuedReadings: 0, heldMessages: 0, samples: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      const [gauges, queued] = await Promise.all([readBrokerGauges(apiUrl), countQueued()]);
      peaks.reportedBacklog = Math.max(peaks.reportedBacklog, gauges.backlogMessages);
      peaks.heldMessages = Math.max(peaks.heldMessages, gauges.heldMessages);
      peaks.queuedReadings = Math.max(peaks.queuedReadings, queued);
      peaks.samples += 1;
      await delay(everyMs);
    }
  })();
  // Surfaced by stop(); this keeps a failed scrape from being an unhandled rejection meanwhile.
  loop.catch(() => {});
  return {
    async stop() {
      running = false;
      await loop;
      return peaks;
    },
  };
}
