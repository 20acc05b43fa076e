import path from 'node:path';

/**
 * A small checked reader over a parsed YAML/JSON document. Every read records its
 * problem with the path it happened at instead of throwing, so one start-up lists all
 * mistakes of a file; `finish()` adds the keys nobody read, because a misspelt option
 * (`samplingInterval` for `samplingIntervalMs`) silently falling back to its default is
 * the hardest configuration mistake to find.
 */

export interface Reader {
  text(key: string): string;
  optionalText(key: string): string | undefined;
  oneOf<T extends string>(key: string, values: readonly T[], fallback: T): T;
  integer(key: string, min: number, max: number, fallback: number): number;
  optionalInteger(key: string, min: number, max: number): number | undefined;
  number(key: string, min: number, max: number): number;
  object(key: string): Reader;
  optionalObject(key: string): Reader | undefined;
  list<T>(key: string, read: (item: Reader) => T): T[];
  /** The keys of a map-like object; they all count as read. */
  keys(): string[];
  file(key: string, baseDir: string): string;
  optionalFile(key: string, baseDir: string): string | undefined;
  problem(key: string, message: string): void;
  check(key: string, message: string | undefined): void;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function createReader(document: unknown): { reader: Reader; problems: string[]; finish(): void } {
  const problems: string[] = [];
  const visited: Array<{ where: string; value: Record<string, unknown>; used: Set<string> }> = [];

  function readerAt(where: string, raw: unknown): Reader {
    const value = isObject(raw) ? raw : {};
    const used = new Set<string>();
    visited.push({ where, value, used });
    const at = (key: string) => (where === '' ? key : `${where}.${key}`);
    const problem = (key: string, message: string) => problems.push(`${at(key)}: ${message}`);
    const get = (key: string) => {
      used.add(key);
      return value[key];
    };
    const optionalText = (key: string) => {
      const found = get(key);
      if (found === undefined || found === null) return undefined;
      if (typeof found === 'number' || typeof found === 'boolean') return String(found);
      if (typeof found !== 'string' || found.trim() === '') {
        problem(key, 'must be a non-empty text');
        return undefined;
      }
      return found.trim();
    };
    const integerOf = (key: string, min: number, max: number): number | undefined => {
      const found = get(key);
      if (found === undefined || found === null) return undefined;
      if (typeof found !== 'number' || !Number.isInteger(found) || found < min || found > max) {
        problem(key, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(found)}`);
        return undefined;
      }
      return found;
    };
    const reader: Reader = {
      text(key) {
        const found = optionalText(key);
        if (found === undefined && !problems.some((line) => line.startsWith(`${at(key)}:`))) problem(key, 'is required');
        return found ?? '';
      },
      optionalText,
      oneOf(key, values, fallback) {
        const found = optionalText(key);
        if (found === undefined) return fallback;
        const match = values.find((candidate) => candidate.toLowerCase() === found.toLowerCase());
        if (match === undefined) problem(key, `must be one of ${values.join(', ')}, got "${found}"`);
        return match ?? fallback;
      },
      integer: (key, min, max, fallback) => integerOf(key, min, max) ?? fallback,
      optionalInteger: integerOf,
      number(key, min, max) {
        const found = get(key);
        if (typeof found !== 'number' || !Number.isFinite(found) || found < min || found > max) {
          problem(key, `must be a number from ${min} to ${max}`);
          return min;
        }
        return found;
      },
      object(key) {
        const found = get(key);
        if (!isObject(found)) problem(key, found === undefined ? 'is required' : 'must be a mapping of keys to values');
        return readerAt(at(key), found);
      },
      optionalObject(key) {
        const found = get(key);
        if (found === undefined || found === null) return undefined;
        if (!isObject(found)) problem(key, 'must be a mapping of keys to values');
        return readerAt(at(key), found);
      },
      list(key, read) {
        const found = get(key);
        if (found === undefined || found === null) return [];
        if (!Array.isArray(found)) {
          problem(key, 'must be a list');
          return [];
        }
        return found.map((item, index) => {
          if (!isObject(item)) problem(`${key}[${index}]`, 'must be a mapping of keys to values');
          return read(readerAt(`${at(key)}[${index}]`, item));
        });
      },
      keys() {
        for (const key of Object.keys(value)) used.add(key);
        return Object.keys(value);
      },
      file: (key, baseDir) => path.resolve(baseDir, reader.text(key)),
      optionalFile(key, baseDir) {
        const found = optionalText(key);
        return found === undefined ? undefined : path.resolve(baseDir, found);
      },
      problem,
      check(key, message) {
        if (message !== undefined) problem(key, message);
      },
    };
    return reader;
  }

  return {
    reader: readerAt('', document),
    problems,
    finish() {
      if (!isObject(document)) problems.unshift('the file must hold a mapping with devices and servers');
      for (const { where, value, used } of visited) {
        for (const key of Object.keys(value).filter((candidate) => !used.has(candidate))) {
          problems.push(`${where === '' ? key : `${where}.${key}`}: unknown option`);
        }
      }
    },
  };
}
