import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'out/', 'coverage/', 'test-results/', 'playwright-report/', 'tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'The engine, CLI and tests never import Electron.' }] }],
    },
  },
  {
    files: ['src/engine/**/*.ts', 'src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The engine is plain TypeScript: no Electron.' }],
          patterns: [{ group: ['**/renderer/**', '**/main/**', '**/cli/**', '**/server/**', '**/host/supervisor*', '**/preload/**'], message: 'The engine never imports hosts.' }],
        },
      ],
    },
  },
  {
    // The workbench runs in a browser page and reaches the engine only through src/shared/protocol.ts.
    // (.vue files are checked by test/boundaries.test.ts: there is no Vue parser for ESLint here.)
    files: ['src/renderer/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The renderer talks to main only through window.convscope (src/preload).' }],
          patterns: [
            { group: ['**/engine/**', '**/engine', '**/main/**', '**/cli/**', '**/server/**', '**/host/**', '**/preload/**'], message: 'The renderer reaches the engine only through the protocol (src/shared/protocol.ts).' },
            { group: ['node:*'], message: 'The renderer runs in a browser page: no Node modules.' },
          ],
        },
      ],
    },
  },
  {
    // Only Electron's own processes import Electron; test/boundaries.test.ts keeps it to their entry files.
    files: ['src/main/**/*.ts', 'src/preload/**/*.ts', 'electron.vite.config.ts', 'e2e/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['src/preload/**/*.ts'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },
);
