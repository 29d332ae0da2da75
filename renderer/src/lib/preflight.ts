/** One thing the preflight found that stops a workflow from running on this server. */
export interface PreflightItem {
  message: string;
  /** For a missing model: the file and the folder (under the ComfyUI root) it goes in. */
  file?: string;
  folder?: string;
  /** The file is in the folder but the server has not scanned it yet. */
  rescan?: boolean;
  node?: string;
  classType?: string;
}

const NEEDS = /^(\S+) \(node ([^)]+)\) needs (.+) in (models\/\S+)$/;
const UNLISTED = /^(\S+) \(node ([^)]+)\) needs (.+): it is in (models\/\S+) but the server does not list it/;

/**
 * The problems of a preflight failure, one per line of the core's message ("The workflow cannot
 * run on this server:" then one indented line each). The run record carries them only as that
 * text today, so the file and folder of a missing model are read from its line.
 */
export function preflightItems(error: string): { intro: string; items: PreflightItem[] } {
  const [intro = '', ...lines] = error.split('\n');
  const items = lines
    .map((l) => l.trim())
    .filter(Boolean)
    .map((message): PreflightItem => {
      const unlisted = UNLISTED.exec(message);
      const m = unlisted ?? NEEDS.exec(message);
      if (!m) return { message };
      return { message, classType: m[1], node: m[2], file: m[3], folder: m[4], rescan: Boolean(unlisted) };
    });
  return { intro, items };
}
