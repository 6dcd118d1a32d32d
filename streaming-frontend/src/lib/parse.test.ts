import { describe, expect, it } from 'vitest';
import {
  parseApiError,
  parseClock,
  parseHistoryPage,
  parseReset,
  parseSample,
  parseScenarios,
  parseStats,
  parseSubjects,
  parseTime,
  parseTypes,
} from './parse';

const heart = {
  value: 72,
  timestamp: '2026-02-03T10:30:00.000Z',
  type: 'heart_rate',
  id: 1042,
  unit: 'count/min',
  subject: 'default',
};

describe('parseTime', () => {
  it('reads API.md times, with or without an offset', () => {
    expect(parseTime('2026-02-03T10:30:00.000Z')).toBe(Date.UTC(2026, 1, 3, 10, 30));
    expect(parseTime('2026-02-03T10:30:00')).toBe(Date.UTC(2026, 1, 3, 10, 30));
    expect(parseTime('2026-02-03T11:30:00.000+01:00')).toBe(Date.UTC(2026, 1, 3, 10, 30));
  });

  it('refuses what is not a date-time', () => {
    expect(parseTime('yesterday')).toBeNull();
    expect(parseTime(1700000000)).toBeNull();
    expect(parseTime('2026-13-45T99:99:00Z')).toBeNull();
  });
});

describe('parseSample', () => {
  it('reads a native sample', () => {
    const parsed = parseSample(JSON.stringify(heart));
    expect(parsed).toEqual({
      ok: true,
      value: {
        id: 1042,
        type: 'heart_rate',
        value: 72,
        timestamp: Date.UTC(2026, 1, 3, 10, 30),
        unit: 'count/min',
        subject: 'default',
        start: null,
        scenario: null,
        event: null,
      },
    });
  });

  it('reads intervals, categories, workouts and scenarios', () => {
    const sleep = parseSample(
      JSON.stringify({
        ...heart,
        type: 'sleep_analysis',
        value: 'asleepREM',
        unit: null,
        start: '2026-02-03T10:00:00.000Z',
        scenario: 'sleep',
      }),
    );
    expect(sleep.ok && sleep.value).toMatchObject({
      value: 'asleepREM',
      unit: null,
      start: Date.UTC(2026, 1, 3, 10, 0),
      scenario: 'sleep',
    });
    const workout = parseSample(
      JSON.stringify({ ...heart, type: 'workout', value: 'running', unit: null, event: 'start' }),
    );
    expect(workout.ok && workout.value.event).toBe('start');
  });

  it('defaults a missing subject to "default"', () => {
    const { subject, ...rest } = heart;
    const parsed = parseSample(JSON.stringify(rest));
    expect(subject).toBe('default');
    expect(parsed.ok && parsed.value.subject).toBe('default');
  });

  it.each([
    ['not JSON', '{"value": 72,'],
    ['a list', '[1, 2]'],
    ['no id', JSON.stringify({ ...heart, id: undefined })],
    ['a string id', JSON.stringify({ ...heart, id: '1042' })],
    ['an unsafe id', JSON.stringify({ ...heart, id: 2 ** 53 + 2 })],
    ['a negative id', JSON.stringify({ ...heart, id: -1 })],
    ['no type', JSON.stringify({ ...heart, type: '' })],
    ['an object value', JSON.stringify({ ...heart, value: { bpm: 72 } })],
    ['a null value', JSON.stringify({ ...heart, value: null })],
    ['a bad timestamp', JSON.stringify({ ...heart, timestamp: 'now' })],
    ['a bad start', JSON.stringify({ ...heart, start: 12 })],
    ['a numeric unit', JSON.stringify({ ...heart, unit: 5 })],
  ])('refuses %s with a reason', (_what, data) => {
    const parsed = parseSample(data);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error.length).toBeGreaterThan(0);
  });
});

describe('parseReset', () => {
  it('reads the reset event', () => {
    expect(parseReset('{"reason": "expired", "oldest_id": 5, "newest_id": 9}')).toEqual({
      ok: true,
      value: { reason: 'expired', oldestId: 5, newestId: 9 },
    });
    expect(parseReset('{"reason": "unknown", "oldest_id": null, "newest_id": null}')).toEqual({
      ok: true,
      value: { reason: 'unknown', oldestId: null, newestId: null },
    });
  });

  it('refuses a reset without a reason', () => {
    expect(parseReset('{}').ok).toBe(false);
    expect(parseReset('nope').ok).toBe(false);
  });
});

describe('JSON routes', () => {
  it('reads a history page', () => {
    expect(parseHistoryPage({ items: [heart], next_after_id: 1042 })).toEqual({
      ok: true,
      value: { items: [heart], nextAfterId: 1042 },
    });
    expect(parseHistoryPage({ items: [], next_after_id: null })).toEqual({
      ok: true,
      value: { items: [], nextAfterId: null },
    });
    expect(parseHistoryPage({ samples: [] }).ok).toBe(false);
    expect(parseHistoryPage({ items: [], next_after_id: 'x' }).ok).toBe(false);
  });

  it('reads stats', () => {
    const parsed = parseStats({
      subscribers: 2,
      published: 10,
      delivered: 20,
      dropped_slow: 0,
      buffer: { size: 10, capacity: 10000, oldest_id: 1, newest_id: 10 },
      uptime_s: 1.5,
    });
    expect(parsed.ok && parsed.value).toMatchObject({
      subscribers: 2,
      bufferSize: 10,
      bufferCapacity: 10000,
      newestId: 10,
    });
    expect(parseStats({ subscribers: 1 }).ok).toBe(false);
  });

  it('reads the catalogue in a list or under a key', () => {
    const types = parseTypes([
      { name: 'heart_rate', unit: 'count/min', kind: 'quantity', normal_range: [60, 100] },
      { name: 'workout', unit: null, kind: 'category', normal_range: null },
      { name: 'oxygen_saturation', unit: '%', kind: 'quantity', normal_range: { low: 95, high: 100 } },
      { nonsense: true },
    ]);
    expect(types.ok && types.value).toEqual([
      { name: 'heart_rate', unit: 'count/min', kind: 'quantity', normalRange: [60, 100], cadenceS: null },
      { name: 'workout', unit: null, kind: 'category', normalRange: null, cadenceS: null },
      { name: 'oxygen_saturation', unit: '%', kind: 'quantity', normalRange: [95, 100], cadenceS: null },
    ]);
    const wrapped = parseTypes({ types: [{ name: 'steps', unit: 'count', kind: 'interval' }] });
    expect(wrapped.ok && wrapped.value[0]?.name).toBe('steps');
    expect(parseTypes('nope').ok).toBe(false);
  });

  it('reads subjects and scenarios', () => {
    const subjects = parseSubjects({ subjects: [{ name: 'default', scenario: 'rest' }, { id: 'alice' }] });
    expect(subjects.ok && subjects.value).toEqual([
      { name: 'default', scenario: 'rest' },
      { name: 'alice', scenario: null },
    ]);
    const scenarios = parseScenarios({ scenarios: { workout: { description: 'A run' }, sleep: {} } });
    expect(scenarios.ok && scenarios.value).toEqual([
      { name: 'workout', description: 'A run' },
      { name: 'sleep', description: '' },
    ]);
  });

  it('reads the clock', () => {
    expect(parseClock({ speed: 60, paused: false, now: '2026-02-03T02:00:00.000Z' })).toEqual({
      ok: true,
      value: { speed: 60, paused: false, now: Date.UTC(2026, 1, 3, 2) },
    });
    expect(parseClock({ speed: '60', paused: false }).ok).toBe(false);
  });

  it('reads the error shape', () => {
    expect(
      parseApiError({ error: { code: 'invalid_parameter', message: 'unknown type', parameter: 'types' } }),
    ).toEqual({ code: 'invalid_parameter', message: 'unknown type', parameter: 'types' });
    expect(parseApiError('<html>')).toBeNull();
  });
});
