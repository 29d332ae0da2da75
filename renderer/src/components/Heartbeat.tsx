import type { HistoryPoint } from '../../../app/contract/index.js';
import { HISTORY_SLOTS } from '../lib/health.js';
import { ms } from './format.js';

const SLOTS = Array.from({ length: HISTORY_SLOTS }, (_, i) => i);

/**
 * The last results of one check as a strip of bars, oldest first, newest at the right. It always
 * has HISTORY_SLOTS equal slots across the tile's width (empty ones faint), so it fits any tile:
 * the bars scale, they never push the tile wider.
 */
export function Heartbeat({ points, label }: { points: readonly HistoryPoint[]; label: string }) {
  const shown = points.slice(-HISTORY_SLOTS);
  const offset = HISTORY_SLOTS - shown.length;
  const counts = shown.reduce<Record<string, number>>((acc, p) => ({ ...acc, [p.status]: (acc[p.status] ?? 0) + 1 }), {});
  const summary = Object.entries(counts)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  return (
    <div className="heartbeat" role="img" aria-label={`${label}: last ${shown.length} results: ${summary || 'none yet'}`}>
      {SLOTS.map((i) => {
        const p = shown[i - offset];
        return p ? (
          <span key={i} className={`beat beat-${p.status}`} title={`${p.status} at ${new Date(p.checkedAt).toLocaleString()} (${ms(p.latencyMs)})`} />
        ) : (
          <span key={i} className="beat beat-empty" />
        );
      })}
    </div>
  );
}

/**
 * The latency of the same results as a line aligned with the strip's slots; scales with the
 * tile like the strip.
 */
export function Sparkline({ points, label, height = 22 }: { points: readonly HistoryPoint[]; label: string; height?: number }) {
  const shown = points.slice(-HISTORY_SLOTS);
  const offset = HISTORY_SLOTS - shown.length;
  const max = Math.max(1, ...shown.map((p) => p.latencyMs));
  const y = (v: number) => height - 2 - (v / max) * (height - 4);
  const coords = shown.map((p, i) => `${offset + i + 0.5},${y(p.latencyMs).toFixed(2)}`).join(' ');
  return (
    <svg className="sparkline" viewBox={`0 0 ${HISTORY_SLOTS} ${height}`} preserveAspectRatio="none" role="img" aria-label={label} height={height}>
      {shown.length > 1 ? <polyline points={coords} fill="none" vectorEffect="non-scaling-stroke" /> : null}
    </svg>
  );
}
