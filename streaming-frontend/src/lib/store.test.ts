import { describe, expect, it } from 'vitest';
import { sampleJson } from '../test/fakeStream';
import { SLEEP_LEVELS } from './catalogue';
import { Store, seriesKey } from './store';

/** A store whose animation frames run when the test says so. */
function manualStore(capacity = 10_000): { store: Store; frames: (() => void)[]; runFrames: () => void } {
  const frames: (() => void)[] = [];
  const store = new Store({
    capacity,
    requestFrame: (cb) => frames.push(cb),
    now: () => Date.UTC(2026, 1, 3, 10, 30, 1),
  });
  const runFrames = (): void => {
    for (const frame of frames.splice(0)) frame();
  };
  return { store, frames, runFrames };
}

const at = (second: number): string => new Date(Date.UTC(2026, 1, 3, 10, 30, second)).toISOString();

describe('Store', () => {
  it('keeps one ring per type and subject', () => {
    const { store } = manualStore();
    store.ingestEvent(JSON.stringify(sampleJson({ id: 1, value: 70 })));
    store.ingestEvent(JSON.stringify(sampleJson({ id: 2, value: 80, subject: 'alice' })));
    store.ingestEvent(
      JSON.stringify(sampleJson({ id: 3, type: 'steps', value: 12, unit: 'count', start: at(0) })),
    );
    expect([...(store.series('heart_rate', 'default')?.ring.values() ?? [])]).toEqual([70]);
    expect([...(store.series('heart_rate', 'alice')?.ring.values() ?? [])]).toEqual([80]);
    const steps = store.series('steps', 'default');
    expect(steps?.unit).toBe('count');
    expect(steps?.ring.starts()[0]).toBe(Date.UTC(2026, 1, 3, 10, 30) / 1000);
  });

  it('tells listeners once per animation frame, however many samples arrive', () => {
    const { store, frames, runFrames } = manualStore();
    let renders = 0;
    store.subscribe(() => {
      renders += 1;
    });
    for (let i = 1; i <= 500; i += 1)
      store.ingestEvent(JSON.stringify(sampleJson({ id: i, timestamp: at(i % 60) })));
    expect(frames).toHaveLength(1);
    expect(renders).toBe(0);
    runFrames();
    expect(renders).toBe(1);
    expect(store.getSnapshot().counts.received + store.getSnapshot().counts.outOfOrder).toBe(500);
  });

  it('gives a new snapshot object only when something changed', () => {
    const { store, runFrames } = manualStore();
    const first = store.getSnapshot();
    expect(store.getSnapshot()).toBe(first);
    store.ingestEvent(JSON.stringify(sampleJson({ id: 1 })));
    runFrames();
    expect(store.getSnapshot()).not.toBe(first);
    expect(store.getSnapshot().lastId).toBe(1);
  });

  it('skips ids it has already seen (a replay overlapping history)', () => {
    const { store } = manualStore();
    store.ingestHistory([sampleJson({ id: 10, timestamp: at(1) }), sampleJson({ id: 11, timestamp: at(2) })]);
    store.ingestEvent(JSON.stringify(sampleJson({ id: 11, timestamp: at(2) })));
    store.ingestEvent(JSON.stringify(sampleJson({ id: 12, timestamp: at(3) })));
    expect(store.ids()).toEqual([10, 11, 12]);
    expect(store.totals()).toMatchObject({ received: 3, duplicates: 1 });
    expect(store.lastId()).toBe(12);
  });

  it('counts malformed events and keeps going', () => {
    const { store, runFrames } = manualStore();
    store.ingestEvent('{"value": 72');
    store.ingestEvent(JSON.stringify(sampleJson({ id: 1, value: 'fast' })));
    store.ingestEvent(JSON.stringify(sampleJson({ id: 2, type: 'sleep_analysis', value: 3, unit: null })));
    store.ingestHistory([{ nonsense: true }]);
    store.ingestEvent(JSON.stringify(sampleJson({ id: 3, value: 64 })));
    runFrames();
    const snapshot = store.getSnapshot();
    expect(snapshot.counts.malformed).toBe(4);
    expect(snapshot.counts.received).toBe(1);
    expect(snapshot.lastError).toBe('id is not a positive safe integer');
    expect(store.series('heart_rate', 'default')?.ring.lastValue()).toBe(64);
  });

  it('keeps charts in time order', () => {
    const { store } = manualStore();
    store.ingestEvent(JSON.stringify(sampleJson({ id: 1, timestamp: at(5) })));
    store.ingestEvent(JSON.stringify(sampleJson({ id: 2, timestamp: at(4) })));
    expect(store.series('heart_rate', 'default')?.ring.length).toBe(1);
    expect(store.totals().outOfOrder).toBe(1);
  });

  it('stores sleep stages as hypnogram levels and other categories by index', () => {
    const { store } = manualStore();
    store.ingestEvent(
      JSON.stringify(
        sampleJson({ id: 1, type: 'sleep_analysis', value: 'asleepDeep', unit: null, start: at(0) }),
      ),
    );
    store.ingestEvent(
      JSON.stringify(sampleJson({ id: 2, type: 'workout', value: 'running', unit: null, event: 'start' })),
    );
    expect(store.series('sleep_analysis', 'default')?.ring.lastValue()).toBe(SLEEP_LEVELS.asleepDeep);
    const workout = store.series('workout', 'default');
    expect(workout?.categories).toEqual(['running']);
    expect(workout?.last?.event).toBe('start');
  });

  it('freezes what the view shows while paused, counts what is new, and catches up on resume', () => {
    const { store, runFrames } = manualStore();
    store.ingestEvent(JSON.stringify(sampleJson({ id: 1, value: 60, timestamp: at(1) })));
    runFrames();
    store.setPaused(true);
    const frozen = store.getSnapshot().series.get(seriesKey('heart_rate', 'default'));
    store.ingestEvent(JSON.stringify(sampleJson({ id: 2, value: 120, timestamp: at(2) })));
    store.ingestEvent(JSON.stringify(sampleJson({ id: 3, value: 130, timestamp: at(3) })));
    runFrames();
    const paused = store.getSnapshot();
    expect(paused.paused).toBe(true);
    expect(paused.newWhilePaused).toBe(2);
    // Whatever re-renders the view, it reads the values as they were when paused.
    const view = paused.series.get(seriesKey('heart_rate', 'default'));
    expect(view).toBe(frozen);
    expect([...(view?.view.values() ?? [])]).toEqual([60]);
    expect(view?.view.lastValue()).toBe(60);
    store.setPaused(false);
    const live = store.getSnapshot().series.get(seriesKey('heart_rate', 'default'));
    expect([...(live?.view.values() ?? [])]).toEqual([60, 120, 130]);
    expect(store.getSnapshot().newWhilePaused).toBe(0);
  });

  it('keeps the arrays and untouched series of the last snapshot, so memos hold', () => {
    const { store, runFrames } = manualStore();
    store.ingestEvent(JSON.stringify(sampleJson({ id: 1, timestamp: at(1) })));
    store.ingestEvent(JSON.stringify(sampleJson({ id: 2, type: 'steps', unit: 'count', timestamp: at(1) })));
    runFrames();
    const first = store.getSnapshot();
    store.ingestEvent(JSON.stringify(sampleJson({ id: 3, timestamp: at(2) })));
    runFrames();
    const second = store.getSnapshot();
    expect(second).not.toBe(first);
    expect(second.types).toBe(first.types);
    expect(second.subjects).toBe(first.subjects);
    expect(second.notices).toBe(first.notices);
    expect(second.markers).toBe(first.markers);
    expect(second.series.get(seriesKey('steps', 'default'))).toBe(
      first.series.get(seriesKey('steps', 'default')),
    );
    expect(second.series.get(seriesKey('heart_rate', 'default'))?.version).toBeGreaterThan(
      first.series.get(seriesKey('heart_rate', 'default'))?.version ?? 0,
    );
  });

  it('says a restarted backend lost nothing when it resumes from its first sample', () => {
    const { store, runFrames } = manualStore();
    const oldRun = 1_770_000_000_000_000;
    const newRun = 1_770_000_060_000_000;
    store.ingestEvent(JSON.stringify(sampleJson({ id: oldRun + 500, timestamp: at(10) })));
    store.ingestReset(JSON.stringify({ reason: 'expired', oldest_id: newRun + 1, newest_id: newRun + 40 }));
    store.ingestEvent(JSON.stringify(sampleJson({ id: newRun + 1, timestamp: at(20) })));
    runFrames();
    expect(store.getSnapshot().notices).toEqual([
      expect.objectContaining({ kind: 'restart', firstOfRun: true, oldestId: newRun + 1 }),
    ]);
    expect(store.getSnapshot().counts.missing).toBe(0);
    expect(store.series('heart_rate', 'default')?.ring.length).toBe(2);
  });

  it('takes an empty buffer after a drop for a backend that has just started', () => {
    const { store, runFrames } = manualStore();
    store.ingestEvent(JSON.stringify(sampleJson({ id: 500, timestamp: at(10) })));
    store.ingestReset('{"reason": "expired", "oldest_id": null, "newest_id": null}');
    store.ingestEvent(JSON.stringify(sampleJson({ id: 9_000_001, timestamp: at(20) })));
    runFrames();
    expect(store.getSnapshot().notices).toEqual([
      expect.objectContaining({ kind: 'restart', firstOfRun: true }),
    ]);
    expect(store.getSnapshot().counts.missing).toBe(0);
  });

  it('counts the samples that left the buffer when the same run cannot resume exactly', () => {
    const { store, runFrames } = manualStore();
    store.ingestEvent(JSON.stringify(sampleJson({ id: 500, timestamp: at(10) })));
    store.ingestReset('{"reason": "expired", "oldest_id": 900, "newest_id": 950}');
    store.ingestEvent(JSON.stringify(sampleJson({ id: 900, timestamp: at(20) })));
    runFrames();
    expect(store.getSnapshot().notices).toEqual([expect.objectContaining({ kind: 'expired', missed: 399 })]);
    expect(store.series('heart_rate', 'default')?.ring.length).toBe(2);
  });

  it('tells, instead of silently clearing, when time goes back after a reset', () => {
    const { store, runFrames } = manualStore();
    store.ingestEvent(JSON.stringify(sampleJson({ id: 500, timestamp: at(50) })));
    store.ingestReset(JSON.stringify({ reason: 'expired', oldest_id: 5_000_001, newest_id: 5_000_009 }));
    store.ingestEvent(JSON.stringify(sampleJson({ id: 5_000_001, timestamp: at(5) })));
    runFrames();
    const kinds = store.getSnapshot().notices.map((n) => n.kind);
    expect(kinds).toEqual(['restart', 'cleared']);
    expect(store.getSnapshot().notices[1]).toMatchObject({ types: ['heart_rate'] });
    expect(store.series('heart_rate', 'default')?.ring.length).toBe(1);
  });

  it('starts afresh after a reset to another timeline (smaller ids, earlier times)', () => {
    const { store, runFrames } = manualStore();
    store.ingestEvent(JSON.stringify(sampleJson({ id: 500, timestamp: at(50) })));
    store.ingestReset('{"reason": "unknown", "oldest_id": 1, "newest_id": 3}');
    store.ingestEvent(JSON.stringify(sampleJson({ id: 4, timestamp: at(1), value: 99 })));
    runFrames();
    const ring = store.series('heart_rate', 'default')?.ring;
    expect(ring?.length).toBe(1);
    expect(ring?.lastValue()).toBe(99);
    expect(store.lastId()).toBe(4);
    expect(store.getSnapshot().notices).toEqual([expect.objectContaining({ kind: 'unknown', lastId: 500 })]);
  });

  it('counts ids that never arrived, but not across a reset', () => {
    const { store } = manualStore();
    for (const id of [1, 2, 5, 6]) store.ingestEvent(JSON.stringify(sampleJson({ id, timestamp: at(id) })));
    expect(store.totals().missing).toBe(2);
    // A malformed event still carries its id: no gap.
    store.ingestEvent('{"broken', undefined, '7');
    store.ingestEvent(JSON.stringify(sampleJson({ id: 8, timestamp: at(8) })));
    expect(store.totals().missing).toBe(2);
  });

  it('logs every stream frame as it arrived, resets included', () => {
    const { store } = manualStore();
    store.ingestEvent(JSON.stringify(sampleJson({ id: 1, timestamp: at(1) })), 1000);
    store.ingestEvent('oops', 1001, '2');
    store.ingestReset('{"reason": "unknown", "oldest_id": null, "newest_id": null}', 1002);
    const frames = [0, 1, 2].map((seq) => store.frames.get(seq));
    expect(frames.map((f) => [f?.id, f?.event, f?.type])).toEqual([
      [1, 'message', 'heart_rate'],
      [2, 'message', null],
      [null, 'reset', null],
    ]);
  });

  it('counts a malformed reset', () => {
    const { store } = manualStore();
    store.ingestReset('not json');
    expect(store.totals().malformed).toBe(1);
    expect(store.getSnapshot().notices).toEqual([]);
  });

  it('measures samples per second from the stream', () => {
    const t0 = Date.UTC(2026, 1, 3, 10, 30, 0);
    const store = new Store({ requestFrame: () => 0, now: () => t0 });
    for (let i = 0; i < 50; i += 1) {
      // 10 samples a second for 5 s, each arriving 40 ms after its timestamp.
      const sampleTime = t0 + i * 100;
      store.ingestEvent(
        JSON.stringify(sampleJson({ id: i + 1, timestamp: new Date(sampleTime).toISOString() })),
        sampleTime + 40,
      );
    }
    expect(store.rate(t0 + 5000)).toBeCloseTo(10, 0);
    expect(store.rate(t0 + 60_000)).toBe(0);
  });

  it('keeps the latest ids for inspection, bounded', () => {
    const store = new Store({ requestFrame: () => 0, idLogSize: 3 });
    for (let i = 1; i <= 5; i += 1)
      store.ingestEvent(JSON.stringify(sampleJson({ id: i, timestamp: at(i) })));
    expect(store.ids()).toEqual([3, 4, 5]);
  });

  it('fills each series up to its capacity', () => {
    const { store } = manualStore(100);
    const items = Array.from({ length: 250 }, (_, i) =>
      sampleJson({ id: i + 1, timestamp: new Date(Date.UTC(2026, 1, 3) + i * 1000).toISOString() }),
    );
    expect(store.ingestHistory(items)).toBe(250);
    expect(store.series('heart_rate', 'default')?.ring.length).toBe(100);
  });

  it('flags in the frame log what it made of each frame: duplicates, garbage, gaps', () => {
    const { store } = manualStore();
    const one = JSON.stringify(sampleJson({ id: 1, timestamp: at(1) }));
    store.ingestEvent(one, undefined, '1');
    store.ingestEvent(one, undefined, '1');
    store.ingestEvent('{"value": 7', undefined, '2');
    store.ingestEvent(JSON.stringify(sampleJson({ id: 5, timestamp: at(2) })), undefined, '5');
    store.ingestEvent(JSON.stringify(sampleJson({ id: 6, timestamp: at(3) })), undefined, '6');
    const log = store.frames;
    const flags = Array.from({ length: log.length }, (_, i) => log.flagAt(log.first + i));
    expect(flags).toEqual([null, 'duplicate', 'malformed', 'gap', null]);
    expect(store.totals()).toMatchObject({ received: 3, duplicates: 1, malformed: 1, missing: 2 });
  });

  it('forgets everything on reset, so another session starts with clean charts and counters', () => {
    const { store, runFrames } = manualStore();
    store.ingestEvent(JSON.stringify(sampleJson({ id: 900, subject: 'alice' })), undefined, '900');
    store.ingestEvent('garbage', undefined, null);
    store.noteReconnect();
    store.setPaused(true);
    runFrames();
    store.reset();
    const snapshot = store.getSnapshot();
    expect(snapshot.series.size).toBe(0);
    expect(snapshot.subjects).toEqual([]);
    expect(snapshot.counts).toEqual({
      received: 0,
      malformed: 0,
      duplicates: 0,
      outOfOrder: 0,
      missing: 0,
      reconnects: 0,
    });
    expect(snapshot.paused).toBe(false);
    expect(snapshot.lastId).toBeNull();
    expect(store.ids()).toEqual([]);
    expect(store.frames.length).toBe(0);
    // The new session's ids start at 1: none of them is taken for a duplicate.
    store.ingestEvent(JSON.stringify(sampleJson({ id: 1, subject: 'bob' })), undefined, '1');
    runFrames();
    expect(store.getSnapshot().subjects).toEqual(['bob']);
    expect(store.totals()).toMatchObject({ received: 1, duplicates: 0, missing: 0 });
  });
});
