// `npm run lint`: typescript-eslint's type-checked rules over the whole tree (each file with its
// layer's tsconfig, found by the project service), plus the layer rules the compiler cannot state.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const onlyInMain = { name: 'electron', message: 'Electron is imported only in main/: the core also runs in the CLI and browser mode, the page only sees the preload bridge.' };

export default defineConfig(
  globalIgnores(['dist/', 'release/', 'e2e-output/', 'test-results/', 'playwright-report/', 'bench/results/', '**/*.d.ts']),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      // The tree's style: `import { value, type T }`, and `import type` when every name is a type,
      // so a type-only import never keeps a module (and what it bundles, e.g. zod) at run time.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Off: contract handlers and injected deps must return promises; `async` without await is how
      // they do, and it turns a synchronous throw into a rejection (what every caller handles).
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['test/**/*.ts', 'e2e/**/*.ts'],
    rules: {
      // Off in tests: vitest's asymmetric matchers (expect.any, objectContaining) are typed `any`, and
      // tests read CLI JSON and parsed files whose shape the assertion itself checks.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['e2e/**/*.ts'],
    // Off: Playwright reads a fixture's dependencies from its parameter pattern; none is written `({}, use)`.
    rules: { 'no-empty-pattern': 'off' },
  },
  {
    // Plain JavaScript (bin, build scripts, this file) has no tsconfig: no type-aware rules there.
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' /* the .cjs files are CommonJS on purpose */ },
  },
  {
    files: ['app/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [onlyInMain] }] },
  },
  {
    files: ['renderer/src/**/*.{ts,tsx}'],
    extends: [reactHooks.configs.flat.recommended],
    rules: {
      // Off: it only reports hooks the React Compiler would skip (TanStack Virtual); we do not compile with it.
      'react-hooks/incompatible-library': 'off',
      'no-restricted-imports': ['error', { paths: [onlyInMain], patterns: [{ group: ['node:*'], message: 'The renderer is a web page: no Node modules.' }] }],
    },
  },
);
