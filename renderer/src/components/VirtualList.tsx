import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef, type ReactNode } from 'react';

/**
 * A list of any length in a bounded box: only the rows in view are in the DOM (each measured, so
 * rows may differ in height), and the page never grows past `maxHeight` for it.
 */
export function VirtualList<T>({ items, label, render, estimate = 48, maxHeight = 480, testId, itemKey }: { items: readonly T[]; label: string; render: (item: T, index: number) => ReactNode; estimate?: number; maxHeight?: number | string; testId?: string; itemKey: (item: T, index: number) => string }) {
  const scroller = useRef<HTMLDivElement>(null);
  const rows = useVirtualizer({ count: items.length, getScrollElement: () => scroller.current, estimateSize: () => estimate, overscan: 8, getItemKey: (i) => itemKey(items[i]!, i) });
  return (
    <div ref={scroller} className="vlist" style={{ maxHeight }} role="region" aria-label={label} tabIndex={0} data-testid={testId}>
      <div role="list" aria-label={label} style={{ height: rows.getTotalSize(), position: 'relative' }}>
        {rows.getVirtualItems().map((row) => (
          <div key={row.key} role="listitem" data-index={row.index} ref={rows.measureElement} className="vrow" style={{ transform: `translateY(${row.start}px)` }}>
            {render(items[row.index]!, row.index)}
          </div>
        ))}
      </div>
    </div>
  );
}
