import { createHash } from 'node:crypto';
import type { Plugin } from 'vite';

/**
 * Pins the renderer's one script by hash: adds an SRI `integrity` attribute to the entry
 * script and replaces `'self'` in the CSP's script-src with that hash, so no other script
 * served from our origin could run.
 */
export function pinScriptHash(): Plugin {
  return {
    name: 'comfy-panel-pin-script-hash',
    apply: 'build',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const html = bundle['index.html'];
      if (!html || html.type !== 'asset') return;
      const chunks = Object.values(bundle).filter((c) => c.type === 'chunk');
      if (chunks.length !== 1) this.error(`expected one script chunk, got ${chunks.length}: the CSP pins exactly one script`);
      const entry = chunks[0]!;
      if (entry.type !== 'chunk') return;
      const hash = `sha384-${createHash('sha384').update(entry.code).digest('base64')}`;
      let text = String(html.source);
      text = text.replace(/(<script type="module" crossorigin src="[^"]+")/, `$1 integrity="${hash}"`);
      text = text.replace(/script-src 'self'/, `script-src '${hash}'`);
      if (!text.includes(`integrity="${hash}"`) || !text.includes(`script-src '${hash}'`)) this.error('could not pin the script hash in index.html');
      html.source = text;
    },
  };
}
