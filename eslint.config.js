// Lint rules that keep Lifeline's layers honest: the protocol imports nothing, the client
// and env layers stay free of Node and server libraries, and only adapters touch them.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const serverLibraries = [
  'ws',
  'better-sqlite3',
  'ioredis',
  'pino',
  'jose',
  'commander',
  'zod',
  'prom-client',
];
const nodeBuiltins = {
  group: ['node:*'],
  message: 'Node built-ins belong in src/adapters/ or src/cli/.',
};
const serverLibs = {
  group: serverLibraries,
  message: 'Server libraries belong in src/adapters/, src/server/ or src/cli/.',
};
const upward = (layers) => ({
  group: layers.flatMap((l) => [`../${l}/*`, `../${l}/**`, `../${l}`]),
  message:
    'Imports point downward only (see STYLE.md: protocol < env < client/server/storage < adapters < cli).',
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'lifeline-data/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  {
    files: ['src/protocol/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            nodeBuiltins,
            serverLibs,
            upward(['env', 'client', 'server', 'storage', 'broker', 'adapters', 'cli', 'entries']),
          ],
        },
      ],
    },
  },
  {
    files: ['src/env/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            nodeBuiltins,
            serverLibs,
            upward(['client', 'server', 'storage', 'broker', 'adapters', 'cli', 'entries']),
          ],
        },
      ],
    },
  },
  {
    files: ['src/client/**', 'src/entries/client.ts', 'src/entries/shared.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            nodeBuiltins,
            serverLibs,
            upward(['server', 'storage', 'broker', 'adapters', 'cli']),
          ],
        },
      ],
    },
  },
  {
    files: ['src/server/**', 'src/storage/**', 'src/broker/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:http', 'node:https', 'node:net'],
              message: 'Transports belong in src/adapters/.',
            },
            {
              group: ['ws', 'better-sqlite3', 'ioredis'],
              message: 'Only src/adapters/ imports ws, better-sqlite3 and ioredis.',
            },
            upward(['client', 'adapters', 'cli', 'entries']),
          ],
        },
      ],
    },
  },
  {
    files: ['src/adapters/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [upward(['cli', 'entries'])] }] },
  },
  {
    // Framework bindings and mini-program adapters run where the client runs: no Node, no
    // server libraries, nothing above the client layer.
    files: ['src/bindings/**', 'src/platforms/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            nodeBuiltins,
            serverLibs,
            upward(['server', 'storage', 'broker', 'adapters', 'cli', 'entries']),
          ],
        },
      ],
    },
  },
  {
    files: [
      'src/entries/vue.ts',
      'src/entries/react.ts',
      'src/entries/uniapp.ts',
      'src/entries/wechat.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            nodeBuiltins,
            serverLibs,
            upward(['server', 'storage', 'broker', 'adapters', 'cli']),
          ],
        },
      ],
    },
  },
  {
    // Vue and React are optional peers: only their bindings import them. A rule of its
    // own, so it adds to each layer's import rules instead of replacing them.
    files: ['src/**'],
    ignores: ['src/bindings/vue.ts', 'src/bindings/react.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['vue', 'vue/*', '@vue/*', 'react', 'react/*', 'react-dom', 'react-dom/*'],
              message: 'Vue and React are optional peers: import them only in src/bindings/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/bindings/vue.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['react', 'react/*', 'react-dom', 'react-dom/*'] }] },
      ],
    },
  },
  {
    files: ['src/bindings/react.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['vue', 'vue/*', '@vue/*'] }] },
      ],
    },
  },
  {
    files: ['src/cli/**', 'scripts/**', 'test/**', 'bench/**'],
    rules: { 'no-console': 'off' },
  },
);
