import { describe, expect, it } from 'vitest';
import { ContainerFileReads, RACY_MS, type PathStat } from '../../app/docker/memory.js';

const file = { data: Buffer.from('$2b$12$hash\nadmin'), mode: 0o600, uid: 1000, gid: 1000 };
const stat = (mtime: string, size = 17): PathStat => ({ name: 'PASSWORD', size, mode: 0o600, mtime, linkTarget: '' });
const at = (s: PathStat, engineNow: string) => ({ stat: s, engineNow: Date.parse(engineNow) });

describe('container file reads kept by their stat', () => {
  it('gives the kept read back only while the stat is the one it was read with', () => {
    const reads = new ContainerFileReads();
    const s = stat('2026-12-02T08:00:00Z');
    reads.remember('c', '/p', at(s, '2026-12-02T08:00:10Z'), file);
    expect(reads.get('c', '/p', s)).toBe(file);
    expect(reads.get('c', '/p', stat('2026-12-02T08:00:01Z'))).toBeUndefined();
    expect(reads.get('c', '/p', stat('2026-12-02T08:00:00Z', 18))).toBeUndefined();
    expect(reads.get('other', '/p', s)).toBeUndefined();
  });

  it('keeps no read whose mtime is within RACY_MS of the engine clock, nor one without a clock', () => {
    const reads = new ContainerFileReads();
    const s = stat('2026-12-02T08:00:00Z');
    reads.remember('c', '/p', at(s, new Date(Date.parse('2026-12-02T08:00:00Z') + RACY_MS - 1).toISOString()), file);
    expect(reads.get('c', '/p', s)).toBeUndefined();
    reads.remember('c', '/p', { stat: s, engineNow: Number.NaN }, file);
    expect(reads.get('c', '/p', s)).toBeUndefined();
  });

  it('forgets a file the panel wrote', () => {
    const reads = new ContainerFileReads();
    const s = stat('2026-12-02T08:00:00Z');
    reads.remember('c', '/p', at(s, '2026-12-02T08:01:00Z'), file);
    reads.forget('c', '/p');
    expect(reads.get('c', '/p', s)).toBeUndefined();
  });
});
