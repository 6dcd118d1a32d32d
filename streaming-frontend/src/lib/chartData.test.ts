import { describe, expect, it } from 'vitest';
import { FrameBuffers, hypnogramData, intervalData, overlayData } from './chartData';
import { Ring } from './ring';

describe('FrameBuffers', () => {
  it("copies the ring into alternating arrays, so uPlot's copy survives the next push", () => {
    const ring = new Ring(4);
    const buffers = new FrameBuffers(4);
    for (let i = 1; i <= 6; i += 1) ring.push(i, i, i * 10);
    const first = buffers.fill(ring);
    expect([...first[0]]).toEqual([3, 4, 5, 6]);
    expect([...(first[1] as Float64Array)]).toEqual([30, 40, 50, 60]);
    ring.push(7, 7, 70);
    const second = buffers.fill(ring);
    expect([...second[0]]).toEqual([4, 5, 6, 7]);
    expect([...first[0]]).toEqual([3, 4, 5, 6]);
  });
});

describe('hypnogramData', () => {
  it('draws each stage from its start to its end, with a gap between separate nights', () => {
    const ring = new Ring(10);
    ring.push(1, 100, 1, 0); // core 0-100
    ring.push(2, 160, 0, 100); // deep 100-160
    ring.push(3, 1000, 3, 900); // awake 900-1000, after a gap
    expect(hypnogramData(ring)).toEqual([
      [0, 100, 100, 160, 530, 900, 1000],
      [1, 1, 0, 0, null, 3, 3],
    ]);
  });

  it('draws a stage without a start as a point at its end', () => {
    const ring = new Ring(2);
    ring.push(1, 50, 2);
    expect(hypnogramData(ring)).toEqual([
      [50, 50],
      [2, 2],
    ]);
  });
});

describe('intervalData', () => {
  it('draws steps as a bar over each interval, not a line through interval ends', () => {
    const ring = new Ring(10);
    ring.push(1, 60, 40, 0); // 40 steps over 0-60
    ring.push(2, 120, 10, 60); // 10 steps over 60-120
    ring.push(3, 300, 25, 240); // after a quiet minute
    expect(intervalData(ring)).toEqual([
      [0, 60, 60, 120, 180, 240, 300],
      [40, 40, 10, 10, null, 25, 25],
    ]);
  });
});

describe('overlayData', () => {
  it('puts several subjects on one time axis with gaps where one has no point', () => {
    const a = new Ring(4);
    const b = new Ring(4);
    a.push(1, 10, 60);
    a.push(3, 20, 61);
    b.push(2, 15, 80);
    b.push(4, 20, 81);
    expect(overlayData([a, b])).toEqual([
      [10, 15, 20],
      [60, null, 61],
      [null, 80, 81],
    ]);
  });
});
