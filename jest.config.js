// Four projects: pure unit tests; integration tests against the real
// kube-apiserver test bed (started once by globalSetup); Talos tests that need
// our Go programs (the oracle and the node simulator) built first; and the
// end-to-end scenarios in one shared world (real Cluster API core, simulated
// infrastructure, our operator), run on their own by `npm run test:e2e`.
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
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/world-global-setup.ts',
      globalTeardown: '<rootDir>/test/support/world-global-teardown.ts',
    },
  ],
  testTimeout: 60000,
};
