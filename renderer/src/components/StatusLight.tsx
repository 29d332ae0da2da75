import type { RotationStep } from '../../../app/contract/index.js';

export type Light = 'ok' | 'warn' | 'fail' | 'unknown' | 'busy';

/** A rotation step's light, wherever its steps are shown (the Tokens page, the fleet's staged rotation). */
export const STEP_LIGHT: Record<RotationStep['status'], Light> = { ok: 'ok', failed: 'fail', started: 'busy', skipped: 'unknown' };

/** Each light's word, the same wherever a status is put in words (a light, a notification's title). */
export const LIGHT_WORDS: Record<Light, string> = { ok: 'OK', warn: 'Warning', fail: 'Failing', unknown: 'Unknown', busy: 'Working' };

/**
 * A status light that never relies on colour alone: it carries a word (the status's, or `word` where
 * the thing has its own, such as a rotation's outcome) and an accessible label.
 */
export function StatusLight({ status, label, word = LIGHT_WORDS[status] }: { status: Light; label?: string; word?: string }) {
  return (
    <span className={`light light-${status}`} role="img" aria-label={`${label ? `${label}: ` : ''}${word}`}>
      <span className="light-dot" aria-hidden="true" />
      <span className="light-word">{word}</span>
    </span>
  );
}
