/** Number and time formatting for tiles and panels. */

// One formatter each, made once: `toLocaleString` builds a new one per call, which
// showed up at several percent of a frame in the dashboard benchmark.
const DIGITS = [0, 1, 2].map((digits) => new Intl.NumberFormat('en-US', { maximumFractionDigits: digits }));
const COUNT = new Intl.NumberFormat('en-US');
const COMPACT = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return (DIGITS[digits] as Intl.NumberFormat).format(value);
}

/** A count with thousands separators: 12,345. */
export function formatCount(n: number): string {
  return COUNT.format(n);
}

/** A count in a few characters: 2.5K. */
export function formatCompact(n: number): string {
  return COMPACT.format(n);
}

export function formatUnit(unit: string | null): string {
  switch (unit) {
    case 'count/min':
      return 'bpm';
    case 'degC':
      return '°C';
    case null:
      return '';
    default:
      return unit;
  }
}

/**
 * Where times are shown: UTC (as the API writes them, the default) or the
 * browser's zone. Every time on the page uses one 24-hour format and says
 * which zone it is in.
 */
export type TimeZoneChoice = 'utc' | 'local';

const CLOCK = {
  utc: new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', hourCycle: 'h23', timeStyle: 'medium' }),
  local: new Intl.DateTimeFormat('en-GB', { hourCycle: 'h23', timeStyle: 'medium' }),
};
const SHORT = {
  utc: new Intl.DateTimeFormat('en-GB', {
    timeZone: 'UTC',
    hourCycle: 'h23',
    hour: '2-digit',
    minute: '2-digit',
  }),
  local: new Intl.DateTimeFormat('en-GB', { hourCycle: 'h23', hour: '2-digit', minute: '2-digit' }),
};

/** The zone's short name: `UTC`, or the browser's (`CET`, `GMT+1`). */
export function zoneName(zone: TimeZoneChoice, at = 0): string {
  if (zone === 'utc') return 'UTC';
  const parts = new Intl.DateTimeFormat('en-GB', { timeZoneName: 'short' }).formatToParts(at);
  return parts.find((p) => p.type === 'timeZoneName')?.value ?? 'local';
}

/** A time (epoch ms) as HH:MM:SS in the chosen zone, without the zone's name. */
export function formatClock(ms: number, zone: TimeZoneChoice = 'utc'): string {
  if (!Number.isFinite(ms)) return '–';
  return CLOCK[zone].format(ms);
}

/** A time (epoch ms) as `HH:MM:SS UTC`: for text that stands alone. */
export function formatTime(ms: number, zone: TimeZoneChoice = 'utc'): string {
  if (!Number.isFinite(ms)) return '–';
  return `${CLOCK[zone].format(ms)} ${zoneName(zone, ms)}`;
}

/** HH:MM for axis ticks (the axis names the zone once). */
export function formatTick(ms: number, zone: TimeZoneChoice = 'utc', seconds = false): string {
  return seconds ? CLOCK[zone].format(ms) : SHORT[zone].format(ms);
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(ms)} ms`;
  if (abs < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (abs < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  if (abs < 172_800_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${Math.round(ms / 86_400_000)} d`;
}
