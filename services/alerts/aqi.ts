/**
 * China's air quality index as HJ 633-2012 《环境空气质量指数（AQI）技术规定（试行）》 defines
 * it. Pure: concentrations in, IAQI per item, AQI, primary pollutants and category out.
 * Units are the metric catalogue's canonical ones: µg/m³, except CO in mg/m³ — the same
 * units as the standard's Table 1.
 */

/** One evaluated item: a pollutant over one averaging period (Table 1 rows). */
export const AQI_ITEMS = ['so2_24h', 'so2_1h', 'no2_24h', 'no2_1h', 'pm10_24h', 'co_24h', 'co_1h', 'o3_1h', 'o3_8h', 'pm2_5_24h'] as const;
export type AqiItem = (typeof AQI_ITEMS)[number];

/** IAQI levels of HJ 633-2012 Table 1 (the header row). */
const IAQI_LEVELS = [0, 50, 100, 150, 200, 300, 400, 500] as const;

/**
 * Concentration limits of HJ 633-2012 Table 1, one per IAQI level. SO2 1-hour stops at
 * IAQI 200 (note 2) and O3 8-hour at IAQI 300 (note 3).
 */
export const AQI_BREAKPOINTS: Readonly<Record<AqiItem, readonly number[]>> = {
  so2_24h: [0, 50, 150, 475, 800, 1600, 2100, 2620],
  so2_1h: [0, 150, 500, 650, 800],
  no2_24h: [0, 40, 80, 180, 280, 565, 750, 940],
  no2_1h: [0, 100, 200, 700, 1200, 2340, 3090, 3840],
  pm10_24h: [0, 50, 150, 250, 350, 420, 500, 600],
  co_24h: [0, 2, 4, 14, 24, 36, 48, 60],
  co_1h: [0, 5, 10, 35, 60, 90, 120, 150],
  o3_1h: [0, 160, 200, 300, 400, 800, 1000, 1200],
  o3_8h: [0, 100, 160, 215, 265, 800],
  pm2_5_24h: [0, 35, 75, 115, 150, 250, 350, 500],
};

/** The catalogue metric each item is computed from. */
export const AQI_ITEM_METRIC: Readonly<Record<AqiItem, string>> = {
  so2_24h: 'so2', so2_1h: 'so2', no2_24h: 'no2', no2_1h: 'no2', pm10_24h: 'pm10',
  co_24h: 'co', co_1h: 'co', o3_1h: 'o3', o3_8h: 'o3', pm2_5_24h: 'pm2_5',
};

export interface AqiCategory {
  /** 一级 … 六级 as 1 … 6. */
  level: 1 | 2 | 3 | 4 | 5 | 6;
  name: string;
  nameZh: string;
  colour: string;
  colourZh: string;
  /** sRGB hex of HJ 633-2012 Appendix A (informative). */
  hex: string;
}

/** HJ 633-2012 Table 2: AQI categories (upper bound inclusive) and their colours. */
const CATEGORIES: readonly (AqiCategory & { upTo: number })[] = [
  { upTo: 50, level: 1, name: 'Excellent', nameZh: '优', colour: 'green', colourZh: '绿色', hex: '#00e400' },
  { upTo: 100, level: 2, name: 'Good', nameZh: '良', colour: 'yellow', colourZh: '黄色', hex: '#ffff00' },
  { upTo: 150, level: 3, name: 'Lightly polluted', nameZh: '轻度污染', colour: 'orange', colourZh: '橙色', hex: '#ff7e00' },
  { upTo: 200, level: 4, name: 'Moderately polluted', nameZh: '中度污染', colour: 'red', colourZh: '红色', hex: '#ff0000' },
  { upTo: 300, level: 5, name: 'Heavily polluted', nameZh: '重度污染', colour: 'purple', colourZh: '紫色', hex: '#99004c' },
  { upTo: Number.POSITIVE_INFINITY, level: 6, name: 'Severely polluted', nameZh: '严重污染', colour: 'maroon', colourZh: '褐红色', hex: '#7e0023' },
];

export function aqiCategory(aqi: number): AqiCategory {
  const found = CATEGORIES.find((category) => aqi <= category.upTo) ?? CATEGORIES[CATEGORIES.length - 1]!;
  const { upTo: _upTo, ...category } = found;
  return category;
}

export interface IaqiResult {
  /** Rounded up to a whole number, as HJ 633-2012 asks for every IAQI and the AQI. */
  iaqi: number;
  /** The concentration lies beyond the top of Table 1: the IAQI is reported as 500. */
  beyondScale?: true;
}

/**
 * HJ 633-2012 formula (1): linear interpolation between the Table 1 limits BP_Lo ≤ C ≤ BP_Hi:
 * IAQI = (IAQI_Hi − IAQI_Lo) / (BP_Hi − BP_Lo) × (C − BP_Lo) + IAQI_Lo, rounded up.
 * `undefined` when the item's table stops before C (SO2 1-h > 800, O3 8-h > 800):
 * the caller applies notes 2 and 3.
 */
export function iaqiOf(item: AqiItem, concentration: number): IaqiResult | undefined {
  if (!Number.isFinite(concentration) || concentration < 0) throw new RangeError(`${item}: concentration must be a finite number ≥ 0, got ${concentration}`);
  const limits = AQI_BREAKPOINTS[item];
  const top = limits[limits.length - 1]!;
  if (concentration > top) return limits.length < IAQI_LEVELS.length ? undefined : { iaqi: 500, beyondScale: true };
  let i = 1;
  while (concentration > limits[i]!) i += 1;
  const [bpLo, bpHi, iLo, iHi] = [limits[i - 1]!, limits[i]!, IAQI_LEVELS[i - 1]!, IAQI_LEVELS[i]!];
  const exact = ((iHi - iLo) / (bpHi - bpLo)) * (concentration - bpLo) + iLo;
  // Guard float noise (e.g. 49.99999999) before rounding up.
  return { iaqi: Math.ceil(Math.round(exact * 1e9) / 1e9) };
}

export type AqiInputs = Partial<Record<AqiItem, number>>;

export interface AqiItemResult {
  item: AqiItem;
  pollutant: string;
  concentration: number;
  iaqi: number;
  beyondScale?: true;
  /** Note 2 or 3 of Table 1 replaced this item's IAQI with another period's. */
  substitutedBy?: AqiItem;
}

export interface AqiResult {
  aqi: number;
  category: AqiCategory;
  /** Items whose IAQI equals the AQI, only when AQI > 50 (HJ 633-2012 §5: 首要污染物). */
  primaryPollutants: AqiItem[];
  /** Items with IAQI > 100 (超标污染物). */
  exceeding: AqiItem[];
  items: AqiItemResult[];
}

/** Table 1 note 2 and note 3: which item stands in when an item's table ends. */
const SUBSTITUTES: Partial<Record<AqiItem, AqiItem>> = { so2_1h: 'so2_24h', o3_8h: 'o3_1h' };

/**
 * The AQI of one station (or area) from the items it has: AQI = max IAQI (formula (2)).
 * The caller decides the report type by which items it passes (Table 1 note 1: the 1-hour
 * SO2, NO2 and CO limits are for real-time reports only; daily reports use the 24-hour
 * ones). `undefined` when no item can be computed.
 */
export function computeAqi(inputs: AqiInputs): AqiResult | undefined {
  const items: AqiItemResult[] = [];
  for (const item of AQI_ITEMS) {
    const concentration = inputs[item];
    if (concentration === undefined) continue;
    const own = iaqiOf(item, concentration);
    const pollutant = AQI_ITEM_METRIC[item];
    if (own !== undefined) {
      items.push({ item, pollutant, concentration, ...own });
      continue;
    }
    const substitute = SUBSTITUTES[item];
    const other = substitute === undefined ? undefined : inputs[substitute];
    const replaced = substitute === undefined || other === undefined ? undefined : iaqiOf(substitute, other);
    // Without the other period's value the item is reported without an IAQI (left out).
    if (replaced !== undefined) items.push({ item, pollutant, concentration, ...replaced, substitutedBy: substitute });
  }
  if (items.length === 0) return undefined;
  const aqi = Math.max(...items.map((entry) => entry.iaqi));
  return {
    aqi,
    category: aqiCategory(aqi),
    primaryPollutants: aqi > 50 ? items.filter((entry) => entry.iaqi === aqi).map((entry) => entry.item) : [],
    exceeding: items.filter((entry) => entry.iaqi > 100).map((entry) => entry.item),
    items,
  };
}

/** One hourly average (the 1-hour rollup's avg) of a metric. */
export interface HourlyValue {
  hourStartMs: number;
  value: number;
}

/**
 * GB 3095-2012 Table 4 (data validity): a 24-hour average needs at least 20 hourly values,
 * an 8-hour moving average at least 6.
 */
const MIN_HOURS = { h24: 20, h8: 6 } as const;

const mean = (values: readonly number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

function window(hourly: readonly HourlyValue[], endHourStartMs: number, hours: number): number[] {
  const fromMs = endHourStartMs - (hours - 1) * 3_600_000;
  return hourly.filter((entry) => entry.hourStartMs >= fromMs && entry.hourStartMs <= endHourStartMs).map((entry) => entry.value);
}

/**
 * Inputs of a real-time (hourly) report for the hour starting at `hourStartMs`, from each
 * metric's hourly averages: the hour's value for the 1-hour items, the 8-hour moving
 * average for O3, and the 24-hour moving average for PM10, PM2.5 (Table 1 has no 1-hour
 * limits for particles) and for SO2 (needed by note 2). Averages with too few hours are left out.
 */
export function realTimeInputs(hourlyByMetric: ReadonlyMap<string, readonly HourlyValue[]>, hourStartMs: number): AqiInputs {
  const inputs: AqiInputs = {};
  const hourOf = (metric: string) => hourlyByMetric.get(metric)?.find((entry) => entry.hourStartMs === hourStartMs)?.value;
  const movingMean = (metric: string, hours: number, minimum: number) => {
    const values = window(hourlyByMetric.get(metric) ?? [], hourStartMs, hours);
    return values.length >= minimum ? mean(values) : undefined;
  };
  const set = (item: AqiItem, value: number | undefined) => {
    if (value !== undefined) inputs[item] = value;
  };
  set('so2_1h', hourOf('so2'));
  set('no2_1h', hourOf('no2'));
  set('co_1h', hourOf('co'));
  set('o3_1h', hourOf('o3'));
  set('o3_8h', movingMean('o3', 8, MIN_HOURS.h8));
  set('so2_24h', movingMean('so2', 24, MIN_HOURS.h24));
  set('pm10_24h', movingMean('pm10', 24, MIN_HOURS.h24));
  set('pm2_5_24h', movingMean('pm2_5', 24, MIN_HOURS.h24));
  return inputs;
}
