// ESLint 9 flat config (issue 12): typescript-eslint's recommended rules plus the type-aware
// rules that find real bugs in a daemon made of promises and event handlers. Formatting is
// Prettier's job (.prettierrc); eslint-config-prettier turns off every rule it would fight.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'var/**', 'tmp/**', 'tests/artifacts/**', 'test-artifacts/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      // The project service reuses tsconfig.json: one TypeScript program for the type-aware rules.
      parserOptions: {
        projectService: { allowDefaultProject: ['vitest.config.ts', 'vitest.soak.config.ts', 'vitest.district.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
      globals: { ...globals.node },
    },
    rules: {
      // A promise nobody awaits or catches is an unhandled rejection, which ends the daemon.
      '@typescript-eslint/no-floating-promises': 'error',
      // An async function where a void callback is expected (EventEmitter, setInterval) loses its rejection.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: true, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-for-in-array': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      // Only where it changes behaviour: a promise returned un-awaited from a try escapes its catch.
      '@typescript-eslint/return-await': ['error', 'error-handling-correctness-only'],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // Type-only imports are erased: they cost no load time and cannot form a run-time cycle.
      '@typescript-eslint/consistent-type-imports': ['warn', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unnecessary-type-assertion': 'warn',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Non-null assertions after a check the compiler cannot follow are common and deliberate here.
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
      // A timer handle declared before the closure that cancels it, assigned right after, stays `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Validators reject control characters on purpose (topics, command ids, camera names).
      'no-control-regex': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // Tests: fakes and fixtures legitimately stub with `any` and empty functions.
    files: ['tests/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-empty-function': 'off',
    },
  },
  {
    // The guard console's browser code: plain ES modules served as they are.
    files: ['gateway/console/public/**/*.js'],
    languageOptions: { sourceType: 'module', globals: { ...globals.browser } },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', 'bin/**/*.js', 'eslint.config.js'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
  },
  prettier,
);
