/** What the dashboard knows about types before (or without) `GET /api/types`. */

/** Sleep stages as hypnogram levels: deep at the bottom, awake and in bed on top. */
export const SLEEP_LEVELS: Readonly<Record<string, number>> = {
  asleepDeep: 0,
  asleepCore: 1,
  asleepUnspecified: 1,
  asleepREM: 2,
  awake: 3,
  inBed: 4,
};

export const SLEEP_LEVEL_LABELS = ['Deep', 'Core', 'REM', 'Awake', 'In bed'] as const;

/** Readable names for the catalogue's types; unknown types show their API name. */
export const TYPE_LABELS: Readonly<Record<string, string>> = {
  heart_rate: 'Heart rate',
  heart_rate_variability_sdnn: 'HRV (SDNN)',
  resting_heart_rate: 'Resting heart rate',
  steps: 'Steps',
  distance_walking_running: 'Walking + running distance',
  active_energy_burned: 'Active energy',
  oxygen_saturation: 'Oxygen saturation',
  respiratory_rate: 'Respiratory rate',
  body_temperature: 'Body temperature',
  blood_pressure_systolic: 'Blood pressure, systolic',
  blood_pressure_diastolic: 'Blood pressure, diastolic',
  blood_glucose: 'Blood glucose',
  sleep_analysis: 'Sleep',
  workout: 'Workout',
};

export function typeLabel(type: string): string {
  return TYPE_LABELS[type] ?? type;
}

/** Category types: string values, drawn as a hypnogram (sleep) or a tile (workout). */
export const CATEGORY_TYPES: ReadonlySet<string> = new Set(['sleep_analysis', 'workout']);
