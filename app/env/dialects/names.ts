/**
 * The env dialects by name, with the labels the UI shows. Plain data with no imports, so
 * the renderer and the preload can use it without pulling in zod or Node. The modules
 * that implement each dialect are registered in ./index.ts under these same names.
 */
export const dialectNames = ['compose', 'dotenv', 'raw'] as const;
export type Dialect = (typeof dialectNames)[number];

export interface DialectLabel {
  /** One line for pickers: which readers use files of this dialect. */
  title: string;
  /** A sentence for help texts and the config schema. */
  description: string;
}

export const dialectLabels: Readonly<Record<Dialect, DialectLabel>> = {
  compose: {
    title: 'compose (docker compose .env, env_file)',
    description: 'docker compose: the project .env and env_file; `$` starts a variable unless single-quoted',
  },
  dotenv: {
    title: 'dotenv (Python / Node notebooks)',
    description: 'npm dotenv and python-dotenv: no interpolation; `#` starts a comment even without a space',
  },
  raw: {
    title: 'raw (docker run --env-file, env_file format: raw)',
    description: 'docker run --env-file and env_file format: raw: the value is taken literally, quotes included',
  },
};
