import { startBenchStack } from '../support/bench-stack.js';
import { ingestSettings } from '../support/ingest-settings.js';
import type { BenchContext, Figure, Scenario, ScenarioResult } from '../support/scenario.js';
import { measureSustained } from '../support/sustained-rate.js';

/*
 * Scenarios 2 and 3: the whole pipeline as production runs it (broker, worker and
 * Redis processes, PostgreSQL), QoS 1 from many device connections; the stored rate
 * over a window after warm-up, then the backlog drains and stored must equal acknowledged.
 */

function baseline(context: BenchContext, figure: string): number | undefined {
  return context.earlier?.find((result) => result.name === 'baselines')?.figures[figure]?.value;
}

function ratio(value: number, of: number | undefined, target?: number): Figure | undefined {
  if (of === undefined || of === 0) return undefined;
  const rounded = Math.round((value / of) * 100) / 100;
  return target === undefined ? { value: rounded, unit: 'ratio' } : { value: rounded, unit: 'ratio', target: `>= ${target}`, met: rounded >= target };
}

interface IngestTargets {
  readingsPerS?: number;
  ofBroker?: number;
  ofWriter?: number;
}

function ingestScenario(name: string, title: string, readingsPerMessage: number, targets: IngestTargets): Scenario {
  return {
    name,
    title,
    async run(context): Promise<ScenarioResult> {
      const settings = ingestSettings(context);
      const stack = await startBenchStack(context, name, { ...settings, api: false });
      try {
        context.progress(`stack up: ${stack.processes.map((process) => process.name).join(', ')}`);
        const result = await measureSustained(context, {
          plan: { host: '127.0.0.1', port: stack.mqttPort, deviceIds: stack.deviceIds, secret: stack.secret, readingsPerMessage, inFlightPerConnection: settings.inFlightPerConnection },
          warmupMs: settings.warmupMs,
          windowMs: settings.windowMs,
          watched: stack.watched,
          countStored: () => stack.countReadings(),
        });
        const stored = result.storedPerS ?? 0;
        const figures: Record<string, Figure> = {
          stored: targets.readingsPerS === undefined
            ? { value: stored, unit: 'readings/s' }
            : { value: stored, unit: 'readings/s', target: `>= ${targets.readingsPerS}`, met: stored >= targets.readingsPerS },
          acknowledged: { value: result.ackedMessagesPerS, unit: 'messages/s' },
          backlog_at_window_end: { value: result.backlogAtWindowEnd ?? 0, unit: 'readings' },
        };
        const ofBroker = ratio(stored / readingsPerMessage, baseline(context, 'broker_alone'), targets.ofBroker);
        if (ofBroker !== undefined) figures.ratio_to_broker_alone = ofBroker;
        const ofWriter = ratio(stored, baseline(context, 'writer_alone'), targets.ofWriter);
        if (ofWriter !== undefined) figures.ratio_to_writer_alone = ofWriter;
        const lost = result.sentReadings - (result.storedReadings ?? 0);
        figures.lost = { value: lost, unit: 'readings', target: '= 0', met: lost === 0 };
        const notes = [
          `Stored = rows counted in the readings table at the start and end of the ${settings.windowMs / 1000} s window; acknowledged = PUBACKs the generator received.`,
          `CPU in the window (% of one core; 200 % is the whole machine): ${Object.entries(result.cpuPercent).map(([process, percent]) => `${process} ${percent}`).join(', ')}.`,
        ];
        if (stored > 0) {
          // CPU time per stored reading holds still when other work shares the machine, unlike the rate.
          const costs = Object.entries(result.cpuPercent).filter(([process]) => process !== 'machine');
          const perReading = costs.map(([process, percent]) => `${process} ${Math.round((percent / 100 / stored) * 1e6)}`);
          const total = Math.round((costs.reduce((sum, [, percent]) => sum + percent, 0) / 100 / stored) * 1e6);
          notes.push(`CPU per stored reading (µs): ${perReading.join(', ')}; ${total} in all, so two whole cores would store at most ${Math.round(2e6 / total).toLocaleString('en')} readings/s.`);
          figures.cpu_per_reading = { value: total, unit: 'µs of CPU (all processes)' };
        }
        if (ofBroker === undefined) notes.push('No ratios: the baselines scenario did not run before this one.');
        if (result.load.errors.length > 0) notes.push(`Generator errors: ${result.load.errors.slice(0, 3).join('; ')}`);
        return {
          name,
          title,
          figures,
          configuration: {
            readingsPerMessage, devices: settings.devices, qos: 1, inFlightPerConnection: settings.inFlightPerConnection,
            warmupS: settings.warmupMs / 1000, windowS: settings.windowMs / 1000, workerProcesses: settings.workers,
            workerConcurrency: settings.workerConcurrency, batchMaxMessages: settings.batchMaxMessages, batchMaxWaitMs: settings.batchMaxWaitMs,
            connectS: Math.round(result.connectMs / 100) / 10, cpuPercent: result.cpuPercent,
          },
          sent: result.sentReadings,
          stored: result.storedReadings,
          notes,
        };
      } finally {
        await stack.close();
      }
    },
  };
}

export const ingestOneScenario = ingestScenario('ingest-1', 'Ingest, one reading per message, QoS 1, many devices', 1, { readingsPerS: 30_000, ofBroker: 0.5 });
export const ingestTenScenario = ingestScenario('ingest-10', 'Ingest, ten readings per message (a station), QoS 1', 10, { ofWriter: 0.6 });
