import { useVirtualizer } from '@tanstack/react-virtual';
import { useDeferredValue, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type { LogStore } from '../stores/log-store.js';

/** A virtualized log: only visible rows are in the DOM, so 10,000 lines scroll smoothly. */
export function LogView({ store, onCopy }: { store: LogStore; onCopy: (visibleText: string) => void }) {
  const all = useSyncExternalStore(store.subscribe, store.lines);
  const [query, setQuery] = useState('');
  const [paused, setPaused] = useState(false);
  const [frozen, setFrozen] = useState(all);
  useEffect(() => {
    if (!paused) setFrozen(all);
  }, [all, paused]);
  const q = useDeferredValue(query.toLowerCase());
  const lines = useMemo(() => (q ? frozen.filter((l) => l.text.toLowerCase().includes(q)) : frozen), [frozen, q]);
  const parent = useRef<HTMLDivElement>(null);
  const rows = useVirtualizer({ count: lines.length, getScrollElement: () => parent.current, estimateSize: () => 18, overscan: 20 });
  useEffect(() => {
    if (!paused && lines.length) rows.scrollToIndex(lines.length - 1, { align: 'end' });
  }, [lines.length, paused, rows]);
  return (
    <div className="logview">
      <div className="logview-bar">
        <input type="search" placeholder="Search logs" aria-label="Search logs" value={query} onChange={(e) => setQuery(e.target.value)} />
        <button onClick={() => setPaused((p) => !p)} aria-pressed={paused}>
          {paused ? 'Resume' : 'Pause'}
        </button>
        <button onClick={() => onCopy(lines.map((l) => `${l.time} ${l.stream} ${l.text}`).join('\n'))}>Copy diagnostics</button>
        <span className="muted" data-testid="log-count">
          {lines.length} of {all.length} lines{paused ? ' (paused)' : ''}
        </span>
      </div>
      <div ref={parent} className="logview-scroll" role="log" aria-label="Container log" tabIndex={0}>
        <div style={{ height: rows.getTotalSize(), position: 'relative' }}>
          {rows.getVirtualItems().map((row) => {
            const line = lines[row.index]!;
            return (
              <div key={row.key} className={`logline logline-${line.stream}`} style={{ transform: `translateY(${row.start}px)` }}>
                {line.text}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
