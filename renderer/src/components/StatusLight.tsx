export type Light = 'ok' | 'warn' | 'fail' | 'unknown' | 'busy';

const WORDS: Record<Light, string> = { ok: 'OK', warn: 'Warning', fail: 'Failing', unknown: 'Unknown', busy: 'Working' };

/** A status light that never relies on colour alone: it carries a word and an accessible label. */
export function StatusLight({ status, label }: { status: Light; label?: string }) {
  return (
    <span className={`light light-${status}`} role="img" aria-label={`${label ? `${label}: ` : ''}${WORDS[status]}`}>
      <span className="light-dot" aria-hidden="true" />
      <span className="light-word">{WORDS[status]}</span>
    </span>
  );
}
