import { describe, expect, it } from 'vitest';
import { Ring, lowerBound, summarize } from './ring';

function filled(capacity: number, count: number): Ring {
  const ring = new Ring(capacity);
  for (let i = 1; i <= count; i += 1) ring.push(i, i * 10, i * 2, i * 10 - 5);
  return ring;
}

describe('Ring', () => {
  it('keeps points oldest first until full', () => {
    const ring = filled(5, 3);
    expect(ring.length).toBe(3);
    expect([...ring.times()]).toEqual([10, 20, 30]);
    expect([...ring.values()]).toEqual([2, 4, 6]);
    expect([...ring.starts()]).toEqual([5, 15, 25]);
    expect([...ring.ids()]).toEqual([1, 2, 3]);
  });

  it('drops the oldest point once full and stays contiguous across the wrap', () => {
    const ring = filled(4, 11);
    expect(ring.length).toBe(4);
    expect([...ring.ids()]).toEqual([8, 9, 10, 11]);
    expect([...ring.times()]).toEqual([80, 90, 100, 110]);
    expect(ring.lastTime()).toBe(110);
    expect(ring.lastValue()).toBe(22);
  });

  it('holds 10,000 points per series, the dashboard window', () => {
    const ring = filled(10_000, 25_000);
    const times = ring.times();
    expect(times.length).toBe(10_000);
    expect(times[0]).toBe(150_010);
    expect(times[9_999]).toBe(250_000);
    for (let i = 1; i < times.length; i += 1) expect(times[i]).toBeGreaterThan(times[i - 1] ?? 0);
  });

  it('counts versions so views know when to redraw', () => {
    const ring = new Ring(3);
    const before = ring.version;
    ring.push(1, 1, 1);
    expect(ring.version).toBe(before + 1);
    ring.clear();
    expect(ring.length).toBe(0);
    expect(ring.version).toBe(before + 2);
    expect(Number.isNaN(ring.lastTime())).toBe(true);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new Ring(0)).toThrow(RangeError);
    expect(() => new Ring(2.5)).toThrow(RangeError);
  });

  it('gives NaN starts to points without an interval', () => {
    const ring = new Ring(2);
    ring.push(1, 1, 1);
    expect(Number.isNaN(ring.starts()[0])).toBe(true);
  });
});

describe('lowerBound', () => {
  it('finds the first time at or after t', () => {
    const times = [1, 3, 3, 5, 9];
    expect(lowerBound(times, 0)).toBe(0);
    expect(lowerBound(times, 3)).toBe(1);
    expect(lowerBound(times, 4)).toBe(3);
    expect(lowerBound(times, 10)).toBe(5);
  });
});

describe('summarize', () => {
  it('gives min, max and the latest value over the window', () => {
    const ring = new Ring(100);
    [70, 90, 60, 75, 72].forEach((v, i) => ring.push(i + 1, i * 60, v));
    expect(summarize(ring, null)).toMatchObject({ count: 5, min: 60, max: 90, last: 72 });
    // The last 2 minutes of sample time: t = 120, 180, 240.
    expect(summarize(ring, 120)).toMatchObject({ count: 3, min: 60, max: 75, last: 72 });
  });

  it('shows a rising, falling or steady trend', () => {
    const rising = new Ring(100);
    const falling = new Ring(100);
    const steady = new Ring(100);
    for (let i = 0; i < 20; i += 1) {
      rising.push(i + 1, i, 60 + i * 3);
      falling.push(i + 1, i, 150 - i * 3);
      steady.push(i + 1, i, 70 + (i % 2) * 0.1);
    }
    expect(summarize(rising, null).trend).toBe(1);
    expect(summarize(falling, null).trend).toBe(-1);
    expect(summarize(steady, null).trend).toBe(0);
  });

  it('is empty-safe', () => {
    const summary = summarize(new Ring(3), 60);
    expect(summary.count).toBe(0);
    expect(summary.trend).toBe(0);
  });
});
