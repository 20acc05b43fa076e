/**
 * Small readers for configuration documents (JSON or YAML already parsed): each collects
 * problems as "where: what is wrong" instead of throwing at the first, so an operator
 * sees every mistake in a file at once.
 */

export type Fields = Record<string, unknown>;

export function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class DocumentProblems {
  readonly list: string[] = [];
  add(where: string, message: string): void {
    this.list.push(`${where}: ${message}`);
  }
}

export function onlyKeys(fields: Fields, allowed: readonly string[], where: string, problems: DocumentProblems): void {
  for (const key of Object.keys(fields)) {
    if (!allowed.includes(key)) problems.add(where, `unknown field "${key}" (allowed: ${allowed.join(', ')})`);
  }
}

export function readString(
  fields: Fields, key: string, where: string, problems: DocumentProblems,
  options: { optional?: boolean; maxLength?: number; pattern?: RegExp; patternText?: string } = {},
): string | undefined {
  const value = fields[key];
  if (value === undefined || value === null) {
    if (!options.optional) problems.add(where, `"${key}" is required`);
    return undefined;
  }
  if (typeof value !== 'string' || value.trim() === '') {
    problems.add(where, `"${key}" must be a non-empty string`);
    return undefined;
  }
  if (value.length > (options.maxLength ?? 200)) problems.add(where, `"${key}" is longer than ${options.maxLength ?? 200} characters`);
  if (options.pattern !== undefined && !options.pattern.test(value)) {
    problems.add(where, `"${key}" ${options.patternText ?? `must match ${options.pattern.source}`}, got "${value.slice(0, 64)}"`);
  }
  return value;
}

export function readNumber(fields: Fields, key: string, where: string, problems: DocumentProblems): number | undefined {
  const value = fields[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    problems.add(where, `"${key}" must be a finite number`);
    return undefined;
  }
  return value;
}

/** A number or a string such as "5/9" (exact factors); returned as text. */
export function readExact(fields: Fields, key: string, fallback: string, where: string, problems: DocumentProblems): string {
  const value = fields[key];
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  problems.add(where, `"${key}" must be a number or an exact fraction such as "5/9"`);
  return fallback;
}

export function readStringList(fields: Fields, key: string, where: string, problems: DocumentProblems): string[] {
  const value = fields[key];
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item.trim() === '' || item.length > 64)) {
    problems.add(where, `"${key}" must be a list of non-empty strings of at most 64 characters`);
    return [];
  }
  return value as string[];
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], key: string, where: string, problems: DocumentProblems): T | undefined {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  problems.add(where, `"${key}" must be one of ${allowed.join(', ')}`);
  return undefined;
}
