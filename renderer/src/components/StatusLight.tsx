export type Light = 'ok' | 'warn' | 'fail' | 'unknown' | 'busy';

const WORDS: Record<Light, string> = { ok: 'OK', warn: 'Warning', fail: 'Failing', unknown: 'Unknown', busy: 'Working' };

/**
 * A status light that never relies on colour alone: it carries a word (the status's, or `word` where
 * the thing has its own, such as a rotation's outcome) and an accessible label.
 */
export function StatusLight({ status, label, word = WORDS[status] }: { status: Light; label?: string; word?: string }) {
  return (
    <span className={`light light-${status}`} role="img" aria-label={`${label ? `${label}: ` : ''}${word}`}>
      <span className="light-dot" aria-hidden="true" />
      <span className="light-word">{word}</span>
    </span>
  );
}
