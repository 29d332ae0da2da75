/**
 * The layers are enforced by the compiler: a tiny probe file is compiled in memory as if it sat in
 * each layer's folder, with that layer's own tsconfig (lib, types, paths, references), and must
 * fail with the expected error, or compile cleanly where the layer allows it. No file is written.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

/** Source files are shared by every probe program: lib and @types files are parsed once. */
const cache = new Map<string, ts.SourceFile | undefined>();

function compileProbe(layer: string, probeDir: string, text: string): ts.Diagnostic[] {
  const configFile = path.join(root, layer, 'tsconfig.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); } });
  if (!parsed) throw new Error(`${configFile}: cannot be read`);
  expect(parsed.errors).toEqual([]);
  const probe = path.join(root, probeDir, '__layer_probe__.ts');
  const host = ts.createCompilerHost(parsed.options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, lang, ...rest) => {
    if (path.resolve(file) === probe) return ts.createSourceFile(file, text, lang, true);
    if (!cache.has(file)) cache.set(file, getSourceFile(file, lang, ...rest));
    return cache.get(file);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (file) => path.resolve(file) === probe || fileExists(file);
  // As an editor does: referenced projects are read from their sources, so no build is needed first.
  (host as ts.CompilerHost & { useSourceOfProjectReferenceRedirect(): boolean }).useSourceOfProjectReferenceRedirect = () => true;
  const program = ts.createProgram({
    // The probe joins the layer's files (so importing one of them is allowed); only its own errors count.
    rootNames: [...parsed.fileNames, probe],
    options: { ...parsed.options, noEmit: true, emitDeclarationOnly: false, noUnusedLocals: false },
    host,
    ...(parsed.projectReferences ? { projectReferences: parsed.projectReferences } : {}),
  });
  const file = program.getSourceFile(probe)!;
  const all = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics(), ...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)];
  return all.filter((d) => !d.file || d.file === file);
}

/** Diagnostics as `code@line` in a probe placed in `dir` (default: the layer's folder), and their text. */
function errorsOf(layer: string, lines: string[], dir = layer): { at: string[]; text: string } {
  const diags = compileProbe(layer, dir, lines.join('\n'));
  const at = diags.map((d) => `${d.code}@${d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0}`);
  return { at, text: diags.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n') };
}

// Codes: 2304/2584 cannot find name (2584: "try lib dom"); 2580/2591 cannot find name, install
// @types/node; 2306 file is not a module; 6307 file is not listed within the file list of project.
const NO_DOM = /^(2304|2584)@/;
const NO_NODE = /^(2580|2591)@/;
describe('each layer compiles only what it may use', () => {
  it('app/ (the core): Node compiles; window, document and electron do not', () => {
    expect(errorsOf('app', ["export const x = process.env.HOME ?? Buffer.from('x').toString();"]).at).toEqual([]);
    const r = errorsOf('app', ['export const a = window.location.href;', 'export const b = document.title;', "export { app } from 'electron';", "export type { BrowserWindow } from 'electron';"]);
    expect(r.at, r.text).toEqual([expect.stringMatching(NO_DOM), expect.stringMatching(NO_DOM), '2306@3', '2306@4']);
    expect(r.text).toMatch(/electron-is-imported-only-in-main\.d\.ts' is not a module/);
  });

  it('renderer/ (the UI): the DOM and the contract compile; process, Buffer, require and the rest of app/ do not', () => {
    const ok = errorsOf('renderer', ["import { eventNames } from '../../app/contract/names.js';", 'export const x = [document.title, eventNames.length];'], 'renderer/src');
    expect(ok.at, ok.text).toEqual([]);
    const globals = errorsOf('renderer', ['export const a = process.env.HOME;', "export const b = Buffer.from('x');", "export const c = require('node:fs');"], 'renderer/src');
    expect(globals.at, globals.text).toEqual([expect.stringMatching(NO_NODE), expect.stringMatching(NO_NODE), expect.stringMatching(NO_NODE)]);
    // A core file is outside the renderer's project, whatever it contains (and would bring Node's types along).
    const core = errorsOf('renderer', ["export { envRoot } from '../../app/env/sources.js';"], 'renderer/src');
    expect(core.text).toMatch(/app\/env\/sources\.ts' is not listed within the file list of project/);
    expect(core.at).toContain('6307@1');
    expect(errorsOf('renderer', ["export { ipcRenderer } from 'electron';"], 'renderer/src').at).toEqual(['2306@1']);
  });

  it('app/contract: neither Node nor the DOM, and nothing of app/ but the config schema', () => {
    expect(errorsOf('app/contract', ["import type { PanelConfig } from '../config/schema.js';", "import { z } from 'zod';", 'export const s = z.string();', 'export type C = PanelConfig;']).at).toEqual([]);
    const r = errorsOf('app/contract', ['export const a = process.env.HOME;', 'export const b = window.location.href;']);
    expect(r.at, r.text).toEqual([expect.stringMatching(NO_NODE), expect.stringMatching(NO_DOM)]);
    expect(errorsOf('app/contract', ["export type { PanelPaths } from '../config/paths.js';"]).at).toContain('6307@1');
  });

  it('main/ (Electron): Node and Electron compile; the DOM does not', () => {
    expect(errorsOf('main', ["import { app } from 'electron';", 'export const x = [app.getName(), process.platform];']).at).toEqual([]);
    expect(errorsOf('main', ['export const a = document.title;']).at).toEqual([expect.stringMatching(NO_DOM)]);
  });

  it('every layer is in the whole-tree check, and every source folder has its layer', () => {
    const solution = ts.readConfigFile(path.join(root, 'tsconfig.json'), (f) => ts.sys.readFile(f)).config as { files: string[]; references: { path: string }[] };
    expect(solution.files).toEqual([]);
    expect(solution.references.map((r) => r.path).sort()).toEqual(['./app', './app/contract', './e2e', './main', './renderer', './scripts', './test'].sort());
    const checked = new Set(solution.references.flatMap((r) => ts.getParsedCommandLineOfConfigFile(path.join(root, r.path, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!.fileNames));
    const tracked = execFileSync('git', ['ls-files', '*.ts', '*.tsx', '*.mts', '*.cts'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(tracked.length).toBeGreaterThan(200);
    expect(tracked.filter((f) => !checked.has(path.join(root, f)))).toEqual([]);
  });
});

describe('app/ never imports Electron (also a compile error, see above)', () => {
  it('no file of app/ names electron in an import, a require or a dynamic import', () => {
    const files = readdirSync(path.join(root, 'app'), { recursive: true, encoding: 'utf8' }).filter((f) => /\.tsx?$/.test(f));
    expect(files.length).toBeGreaterThan(50);
    const offenders = files.filter((f) => /(from\s+|import\s*\(\s*|require\s*\(\s*)['"]electron(\/[^'"]*)?['"]/.test(readFileSync(path.join(root, 'app', f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
