import { describe, expect, it } from 'vitest';
import { FrameLog } from './frameLog';
import { ALL_FRAMES, FrameFilter, resumeCurl, toCsv, toNdjson } from './inspect';

function logOf(n: number, capacity = 100): FrameLog {
  const log = new FrameLog(capacity);
  for (let i = 1; i <= n; i += 1) {
    const type = i % 2 === 0 ? 'steps' : 'heart_rate';
    const subject = i % 3 === 0 ? 'alice' : 'default';
    log.push(i, 'message', 1000 + i, JSON.stringify({ id: i, type, subject, value: i }), type, subject);
  }
  return log;
}

function seqs(filter: FrameFilter, log: FrameLog, count: number): number[] {
  return Array.from({ length: count }, (_, i) => log.idAt(filter.seqAt(log, i)) ?? -1);
}

describe('FrameFilter', () => {
  it('filters by type, subject and text, and takes new frames in incrementally', () => {
    const log = logOf(12);
    const filter = new FrameFilter(4);
    let n = filter.update(log, { ...ALL_FRAMES, type: 'steps', subject: '', text: '' });
    expect(seqs(filter, log, n)).toEqual([2, 4, 6, 8, 10, 12]);
    n = filter.update(log, { ...ALL_FRAMES, type: 'steps', subject: 'alice', text: '' });
    expect(seqs(filter, log, n)).toEqual([6, 12]);
    n = filter.update(log, { ...ALL_FRAMES, type: '', subject: '', text: '"VALUE":1' });
    expect(seqs(filter, log, n)).toEqual([1, 10, 11, 12]);
    log.push(13, 'message', 2000, '{"value":13}', 'heart_rate', 'default');
    n = filter.update(log, { ...ALL_FRAMES, type: '', subject: '', text: '"VALUE":1' });
    expect(seqs(filter, log, n)).toEqual([1, 10, 11, 12, 13]);
  });

  it('drops frames that left the log', () => {
    const log = logOf(12, 5);
    const filter = new FrameFilter(4);
    const n = filter.update(log, { ...ALL_FRAMES, type: 'heart_rate', subject: '', text: '' });
    expect(seqs(filter, log, n)).toEqual([9, 11]);
    const all = filter.update(log, { ...ALL_FRAMES, type: '', subject: '', text: '' });
    expect(seqs(filter, log, all)).toEqual([8, 9, 10, 11, 12]);
  });
});

describe('problem frames', () => {
  it('lists only the frames the store flagged, and a cleared log shows none of the old ones', () => {
    const log = new FrameLog(10);
    log.push(1, 'message', 1, '{"id":1}', 'heart_rate', 'default');
    log.push(1, 'message', 2, '{"id":1}', 'heart_rate', 'default', 'duplicate');
    log.push(2, 'message', 3, '{"id":2,', null, null, 'malformed');
    log.push(5, 'message', 4, '{"id":5}', 'heart_rate', 'default', 'gap');
    const filter = new FrameFilter(4);
    const n = filter.update(log, { ...ALL_FRAMES, problems: true });
    expect(Array.from({ length: n }, (_, i) => log.flagAt(filter.seqAt(log, i)))).toEqual([
      'duplicate',
      'malformed',
      'gap',
    ]);
    const next = log.next;
    log.clear();
    expect(log.length).toBe(0);
    expect(filter.update(log, { ...ALL_FRAMES, problems: true })).toBe(0);
    log.push(1, 'message', 5, '{"id":1}', 'heart_rate', 'default');
    // Sequence numbers are never reused: a selection of an old frame cannot point at a new one.
    expect(log.first).toBe(next);
    expect(log.get(next - 1)).toBeNull();
  });
});

describe('exports', () => {
  const log = logOf(3);
  log.push(4, 'message', 3000, '{"broken', null, null);
  log.push(null, 'reset', 3001, '{"reason":"expired","oldest_id":9,"newest_id":12}', null, null);
  const frames = [0, 1, 2, 3, 4].map((seq) => log.get(seq)).filter((f) => f !== null);

  it('writes NDJSON that parses back to the same ids', () => {
    const lines = toNdjson(frames).trimEnd().split('\n');
    const parsed = lines.map((line) => JSON.parse(line) as { id: number | null; data: unknown });
    expect(parsed.map((p) => p.id)).toEqual([1, 2, 3, 4, null]);
    expect(parsed[0]?.data).toMatchObject({ id: 1, value: 1 });
    expect(parsed[3]?.data).toBe('{"broken');
  });

  it('writes CSV whose quoted data column survives commas and quotes', () => {
    const csv = toCsv(frames);
    const rows = csv.trimEnd().split('\r\n');
    expect(rows[0]).toBe('id,event,arrived,type,subject,data');
    expect(rows[1]).toMatch(/^1,message,1970-01-01T00:00:01\.001Z,heart_rate,default,"\{""id"":1,/);
    expect(rows.slice(1).map((r) => r.split(',')[0])).toEqual(['1', '2', '3', '4', '']);
  });

  it('copies a curl command that resumes right after a frame', () => {
    expect(resumeCurl('http://127.0.0.1:8000/api/stream', 42)).toBe(
      "curl -N -H 'Accept: text/event-stream' 'http://127.0.0.1:8000/api/stream?last_event_id=42'",
    );
  });
});
