/**
 * Environment domain: a roadside/urban air-quality station (national-standard pollutants
 * plus weather and noise), shaped on a north-China coastal city.
 *
 * Weather and haze are regional, so they are seeded by the fleet seed alone: stations of
 * one fleet see the same cold front and the same haze episode, each through its own site
 * factors (traffic, emissions, exposure) and its own sensor noise.
 */

import {
  MS_PER_DAY,
  dailyBump,
  dailyCosine,
  localTime,
  roadTraffic,
  sunHours,
  yearlyCosine,
  type LocalTime,
} from './calendar.js';
import { clamp, finaliseMetrics, resolveModelOptions, type DeviceModel, type DeviceModelOptions } from './device-model.js';
import { between, deriveSeed, fractalNoise, mulberry32, sensorNoise, smoothNoise } from './noise.js';

const AIR_QUALITY_METRICS = [
  'pm2_5', 'pm10', 'no2', 'so2', 'o3', 'co', 'temperature', 'humidity', 'wind_speed', 'noise_laeq',
] as const;

// What analysers and weather heads of a typical station actually report.
const RESOLUTION = {
  pm2_5: 0.1, pm10: 1, no2: 1, so2: 1, o3: 1, co: 0.1,
  temperature: 0.1, humidity: 0.1, wind_speed: 0.1, noise_laeq: 0.1,
} as const;

/**
 * Air temperature of the region, °C: about −3 °C in January and 27 °C in July (Tianjin),
 * fronts moving it ±3.5 °C over days. Exported for models of structures exposed to it.
 */
export function regionalAirTemperature(seed: number | string, atMs: number, t: LocalTime): number {
  const front = fractalNoise(deriveSeed(seed, 'region', 'front'), atMs, 3 * MS_PER_DAY);
  return 12 + 15 * yearlyCosine(t.dayOfYear, 200) + 4.5 * dailyCosine(t.hour, 15) + 3.5 * front;
}

/** Magnus formula: relative humidity from temperature and dew point, both in °C. */
function relativeHumidity(temperature: number, dewPoint: number): number {
  const gamma = (celsius: number): number => (17.62 * celsius) / (243.12 + celsius);
  return 100 * Math.exp(gamma(dewPoint) - gamma(temperature));
}

export function createAirQualityStation(options: DeviceModelOptions): DeviceModel {
  const { seed, deviceId, utcOffsetMinutes } = resolveModelOptions(options);
  const random = mulberry32(deriveSeed(seed, deviceId, 'site'));
  const site = {
    emissions: between(random, 0.8, 1.3),
    traffic: between(random, 0.4, 1.5),
    windExposure: between(random, 0.8, 1.3),
    quietDb: between(random, 40, 47),
    heatIslandC: between(random, -0.8, 0.8),
  };
  const region = (label: string): number => deriveSeed(seed, 'region', label);
  const own = (label: string): number => deriveSeed(seed, deviceId, label);
  const seeds = {
    moisture: region('moisture'), gusts: region('gusts'), haze: region('haze'),
    sunshine: region('sunshine'), dust: own('dust'),
    temperature: own('temperature'), humidity: own('humidity'), wind: own('wind'), pm: own('pm'),
    no2: own('no2'), o3: own('o3'), so2: own('so2'), co: own('co'), noise: own('noise'),
  };

  function sample(atMs: number): Record<string, number> {
    const t = localTime(atMs, utcOffsetMinutes);
    const winter = 0.5 * (1 + yearlyCosine(t.dayOfYear, 15));
    const spring = Math.max(0, yearlyCosine(t.dayOfYear, 105));

    const temperature =
      regionalAirTemperature(seed, atMs, t) + site.heatIslandC + 0.15 * sensorNoise(seeds.temperature, atMs);
    // Dew point changes slowly with air masses, so humidity falls as the day warms.
    const dewPoint = Math.min(
      temperature,
      4.5 + 17.5 * yearlyCosine(t.dayOfYear, 200) + 4 * fractalNoise(seeds.moisture, atMs, 2 * MS_PER_DAY),
    );
    const humidity = clamp(relativeHumidity(temperature, dewPoint) + 0.8 * sensorNoise(seeds.humidity, atMs), 5, 100);

    const windSpeed = Math.max(
      0.1,
      (2.2 + 0.8 * spring + 0.8 * dailyCosine(t.hour, 14)) * site.windExposure *
        Math.exp(0.5 * fractalNoise(seeds.gusts, atMs, MS_PER_DAY)) + 0.3 * sensorNoise(seeds.wind, atMs),
    );
    // Calm air lets pollutants pile up; wind disperses them.
    const stagnation = clamp(3 / (windSpeed + 1.5), 0.4, 1.6);
    const traffic = roadTraffic(t);

    // Heating season doubles the background; haze episodes swing it ×0.3…×3 over days.
    const haze = Math.exp(1.1 * fractalNoise(seeds.haze, atMs, 2.5 * MS_PER_DAY));
    const pmDaily = 0.8 + 0.25 * dailyBump(t.hour, 8, 1.5) + 0.35 * dailyBump(t.hour, 22, 3);
    const pm25 = Math.max(
      2,
      (35 + 45 * winter) * haze * pmDaily * stagnation * site.emissions * (1 + 0.05 * sensorNoise(seeds.pm, atMs)),
    );
    // Coarse dust: more in spring and on windy days, so PM10/PM2.5 is 1.3…2.4.
    const coarseRatio =
      1.45 + 0.35 * spring + 0.06 * Math.min(windSpeed, 8) + 0.1 * smoothNoise(seeds.dust, atMs, 6 * 3_600_000);
    const pm10 = pm25 * Math.max(1.3, coarseRatio);

    const no2 = Math.max(
      3,
      (15 + 15 * winter + 45 * site.traffic * traffic) * stagnation * (1 + 0.06 * sensorNoise(seeds.no2, atMs)),
    );
    const { sunrise, sunset } = sunHours(t.dayOfYear);
    const sunUp = t.hour > sunrise && t.hour < sunset + 2 ? 1 : 0.3;
    const sunshine = (0.35 + 0.65 * (1 - winter)) * Math.exp(0.3 * fractalNoise(seeds.sunshine, atMs, MS_PER_DAY));
    // Ozone forms in sunlight and peaks mid-afternoon; fresh NO from traffic titrates it.
    const o3 = Math.max(
      2,
      15 + 170 * sunshine * sunUp * dailyBump(t.hour, 15, 2.8) - 0.3 * no2 + 3 * sensorNoise(seeds.o3, atMs),
    );
    const so2 = Math.max(2, 6 + 14 * winter * Math.sqrt(haze) * stagnation + 1.2 * sensorNoise(seeds.so2, atMs));
    const co = Math.max(0.1, 0.3 + 0.008 * pm25 + 0.004 * no2 + 0.03 * sensorNoise(seeds.co, atMs));
    const noise =
      site.quietDb + 10 * Math.log10(1 + 30 * site.traffic * traffic) + 1.2 * sensorNoise(seeds.noise, atMs);

    const metrics = finaliseMetrics(
      {
        pm2_5: pm25, pm10, no2, so2, o3, co,
        temperature, humidity, wind_speed: windSpeed, noise_laeq: noise,
      },
      RESOLUTION,
    );
    // Rounding PM10 to integers must not undercut PM2.5 (a fraction of PM10 by definition).
    if ((metrics.pm10 ?? 0) < (metrics.pm2_5 ?? 0)) metrics.pm10 = Math.ceil(metrics.pm2_5 ?? 0);
    return metrics;
  }

  return { kind: 'air-quality-station', domain: 'environment', metrics: AIR_QUALITY_METRICS, sample };
}
