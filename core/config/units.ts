/** Parsers for the human-readable values in the config: durations, sizes and rates. */

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
};

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  k: 1024,
  mb: 1024 ** 2,
  m: 1024 ** 2,
  gb: 1024 ** 3,
  g: 1024 ** 3,
};

const RATE_WINDOWS: Record<string, number> = {
  s: 1000,
  sec: 1000,
  second: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
};

/** Pattern of a duration string such as `60s`, `5m`, `1.5h` or `250ms`. */
export const DURATION_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|sec|m|min|h|hour|d|day)\\s*$';
/** Pattern of a size string such as `1mb`, `25MB` or `512kb`. */
export const SIZE_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*([kKmMgG]?[bB]?)\\s*$';
/** Pattern of a rate string such as `100/min`, `10/s` or `5000/hour`. */
export const RATE_PATTERN = '^\\s*\\d+\\s*/\\s*(s|sec|second|m|min|minute|h|hour|d|day)\\s*$';

/** JSON Schema of a duration: seconds as a number, or a string with a unit. */
export const durationSchema = {
  anyOf: [
    { type: 'number', minimum: 0 },
    { type: 'string', pattern: DURATION_PATTERN },
  ],
  'x-expected': 'a duration in seconds or with a unit, such as 30, 60s, 5m or 250ms',
};

/** JSON Schema of a duration above zero, for intervals and timeouts that 0 would break. */
export const positiveDurationSchema = {
  anyOf: [
    { type: 'number', exclusiveMinimum: 0 },
    { type: 'string', pattern: `(?=^[^1-9]*[1-9])${DURATION_PATTERN}` },
  ],
  'x-expected': 'a duration above zero, in seconds or with a unit, such as 1, 5s or 250ms',
};

/** JSON Schema of a size: bytes as an integer, or a string with a unit. */
export const sizeSchema = {
  anyOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', pattern: SIZE_PATTERN },
  ],
  'x-expected': 'a size in bytes or with a unit, such as 1048576, 512kb or 25mb',
};

/** Parses a duration into milliseconds; a bare number means seconds. */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') {
    return value * 1000;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(value);
  const unit = match ? DURATION_UNITS[match[2].toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new RangeError(
      `invalid duration "${value}": expected a number of seconds or 60s, 5m, 1h`,
    );
  }
  return Number(match[1]) * unit;
}

/**
 * Formats milliseconds as a duration string that {@link parseDuration} reads back: `60s`, or
 * `250ms` when the value is not a whole number of seconds.
 */
export function formatDuration(ms: number): string {
  return Number.isInteger(ms / 1000) ? `${ms / 1000}s` : `${ms}ms`;
}

/** Parses a size into bytes; a bare number means bytes. */
export function parseSize(value: number | string): number {
  if (typeof value === 'number') {
    return value;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = match ? SIZE_UNITS[(match[2] || 'b').toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new RangeError(`invalid size "${value}": expected bytes or 512kb, 25mb, 1gb`);
  }
  return Math.floor(Number(match[1]) * unit);
}

/** Parses a rate such as `100/min` into a maximum count and a window in milliseconds. */
export function parseRate(value: string): { max: number; windowMs: number } {
  const match = /^\s*(\d+)\s*\/\s*([a-z]+)\s*$/i.exec(value);
  const windowMs = match ? RATE_WINDOWS[match[2].toLowerCase()] : undefined;
  if (!match || windowMs === undefined) {
    throw new RangeError(`invalid rate "${value}": expected N/s, N/min, N/hour or N/day`);
  }
  return { max: Number(match[1]), windowMs };
}
