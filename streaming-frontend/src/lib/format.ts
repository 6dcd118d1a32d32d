/** Number and time formatting for tiles and panels. */

export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
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

/** A sample time (epoch ms) as the browser's local HH:MM:SS. */
export function formatClock(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
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
