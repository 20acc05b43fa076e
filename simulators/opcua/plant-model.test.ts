import { describe, expect, it } from 'vitest';
import { BUILTIN_CATALOGUE } from '../../contracts/metric-catalogue.js';
import { createPlantModel } from './plant-model.js';

const START = Date.UTC(2026, 10, 21, 16); // midnight in Tianjin (UTC+8)
const STEP_MS = 10_000;

/** A day of the plant, sampled every 10 s. */
function runDay(seed: number) {
  const model = createPlantModel({ seed });
  const series = new Map<string, (number | boolean)[]>();
  for (let atMs = START; atMs < START + 24 * 3600_000; atMs += STEP_MS) {
    for (const [key, value] of model.step(atMs)) {
      const values = series.get(key) ?? [];
      values.push(value);
      series.set(key, values);
    }
  }
  return { model, series };
}

describe('the plant model', () => {
  const { model, series } = runDay(7);

  it('offers every point with a catalogue metric that accepts its unit and data type', () => {
    for (const point of model.points) {
      const definition = BUILTIN_CATALOGUE.find(point.metric);
      expect(definition, point.key).toBeDefined();
      if (point.unit !== undefined) expect(BUILTIN_CATALOGUE.conversion(definition!, point.unit), `${point.key} in ${point.unit}`).toBeDefined();
      expect(definition!.kind === 'state', point.key).toBe(point.dataType === 'Boolean');
    }
  });

  it('keeps every value inside its instrument range, and the converted value inside the catalogue range', () => {
    for (const point of model.points.filter((candidate) => candidate.dataType === 'Double')) {
      const values = series.get(point.key) as number[];
      const definition = BUILTIN_CATALOGUE.find(point.metric)!;
      const conversion = BUILTIN_CATALOGUE.conversion(definition, point.unit!)!;
      const [low, high] = [Math.min(...values), Math.max(...values)];
      expect(low, point.key).toBeGreaterThanOrEqual(point.range![0]);
      expect(high, point.key).toBeLessThanOrEqual(point.range![1]);
      expect(conversion.convert(low), point.key).toBeGreaterThanOrEqual(definition.min);
      expect(conversion.convert(high), point.key).toBeLessThanOrEqual(definition.max);
    }
  });

  it('runs the pumps on the reservoir level: they start and stop during a day, and the level stays between the set points', () => {
    const running = series.get('WaterPlant.Pump2.Running') as boolean[];
    const switches = running.filter((on, index) => index > 0 && on !== running[index - 1]).length;
    expect(switches).toBeGreaterThan(2);
    const levels = series.get('WaterPlant.Reservoir.Level') as number[];
    expect(Math.min(...levels)).toBeGreaterThan(2.5);
    expect(Math.max(...levels)).toBeLessThan(5.2);
    // A stopped pump gives no flow.
    const flows = series.get('WaterPlant.Pump2.Flow') as number[];
    running.forEach((on, index) => expect(on || flows[index] === 0).toBe(true));
  });

  it('draws more power in the evening than at night, and changes values from one sample to the next', () => {
    const power = series.get('Substation.Feeder1.ActivePower') as number[];
    const at = (hour: number) => power[(hour * 3600_000) / STEP_MS]!;
    expect(at(19)).toBeGreaterThan(at(4));
    const distinct = new Set(series.get('WaterPlant.Outlet.Pressure'));
    expect(distinct.size).toBeGreaterThan(100);
  });

  it('repeats itself for the same seed, and differs for another', () => {
    expect(runDay(7).series.get('Substation.Feeder2.Current')).toEqual(series.get('Substation.Feeder2.Current'));
    expect(runDay(8).series.get('Substation.Feeder2.Current')).not.toEqual(series.get('Substation.Feeder2.Current'));
  });
});
