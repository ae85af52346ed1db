// Three projects: pure unit tests; integration tests against the real
// kube-apiserver test bed (started once by globalSetup); and Talos tests that
// need our Go programs (the oracle and the node simulator) built first.
const tsJest = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }] };
const common = { transform: tsJest, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/testbed-global-setup.ts',
      globalTeardown: '<rootDir>/test/support/testbed-global-teardown.ts',
    },
    { ...common, displayName: 'talos', testMatch: ['<rootDir>/test/talos/**/*.test.ts'] },
  ],
  testTimeout: 60000,
};
