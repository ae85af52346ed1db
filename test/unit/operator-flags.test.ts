import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseListenAddress } from '../../src/kube/http/http-server';
import {
  TALOS_CONFIG_CONTROLLER, TALOS_CONTROL_PLANE_CONTROLLER, controllersArg, describeFlags, operatorUsage, parseOperatorFlags, resolveLeaseNamespace,
} from '../../src/operator-flags';

describe('operator flags', () => {
  it('has upstream-compatible defaults', () => {
    const flags = parseOperatorFlags([]);
    expect(flags).toMatchObject({
      leaderElect: false, healthAddr: ':9440', metricsAddr: ':8443', insecureDiagnostics: false, metricsCertDir: '', kubeApiQps: 20, kubeApiBurst: 30,
      leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, defaultConcurrency: 10, concurrency: {},
      watchFilter: '', namespace: '', logLevel: 'info', syncPeriodMs: 600_000, controllers: ['bootstrap', 'controlplane'],
    });
  });

  it('runs one provider or both: --controllers bootstrap|controlplane|all', () => {
    expect(parseOperatorFlags(['--controllers=bootstrap']).controllers).toEqual(['bootstrap']);
    expect(parseOperatorFlags(['--controllers', 'controlplane']).controllers).toEqual(['controlplane']);
    expect(parseOperatorFlags(['--controllers=all']).controllers).toEqual(['bootstrap', 'controlplane']);
    expect(() => parseOperatorFlags(['--controllers=bootstrap,controlplane'])).toThrow(
      '--controllers: expected bootstrap, controlplane or all, got "bootstrap,controlplane"',
    );
    expect(operatorUsage()).toContain('--controllers WHICH');
    for (const providers of [['bootstrap'], ['controlplane'], ['controlplane', 'bootstrap']] as const) {
      expect(parseOperatorFlags([`--controllers=${controllersArg(providers)}`]).controllers.sort()).toEqual([...providers].sort());
    }
    expect(() => controllersArg([])).toThrow('no --controllers value runs exactly []');
  });

  it('accepts explicit booleans, -h, and a negative port', () => {
    expect(parseOperatorFlags(['--leader-elect=false', '-h', '--webhook-port', '-1'])).toMatchObject({ leaderElect: false, help: true, webhookPort: -1 });
    expect(parseOperatorFlags(['--leader-elect=true'])).toMatchObject({ leaderElect: true });
  });

  it('accepts the upstream aliases', () => {
    const flags = parseOperatorFlags(['--enable-leader-election', '--metrics-bind-address=:8080', '--insecure-diagnostics', '--health-probe-bind-address', ':9441']);
    expect(flags).toMatchObject({ leaderElect: true, metricsAddr: ':8080', insecureDiagnostics: true, healthAddr: ':9441' });
  });

  it('maps per-controller concurrency flags onto controller names', () => {
    const flags = parseOperatorFlags(['--talos-config-concurrency=3', '--taloscontrolplane-concurrency', '2', '--concurrency=5']);
    expect(flags.concurrency).toEqual({ [TALOS_CONFIG_CONTROLLER]: 3, [TALOS_CONTROL_PLANE_CONTROLLER]: 2 });
    expect(flags.defaultConcurrency).toBe(5);
  });

  it('rejects nonsense values', () => {
    expect(() => parseOperatorFlags(['--concurrency=0'])).toThrow('positive integer');
    expect(() => parseOperatorFlags(['--log-level=loud'])).toThrow('unknown level');
    expect(() => parseOperatorFlags(['--leader-elect-renew-deadline=20s'])).toThrow('lease duration > renew deadline');
    expect(() => parseOperatorFlags(['extra'])).toThrow('unexpected arguments');
    expect(() => parseOperatorFlags(['--kube-api-qps=-1'])).toThrow('must not be negative');
    expect(() => parseOperatorFlags(['--sync-period=soon'])).toThrow('--sync-period: invalid duration');
    expect(() => parseOperatorFlags(['--concurrency=many'])).toThrow('--concurrency: invalid number "many"');
  });

  it('describes flags for the start log line with the kubeconfig path under a non-secret name', () => {
    const described = describeFlags(parseOperatorFlags(['--kubeconfig=/tmp/kc']));
    expect(described.kubeconfigPath).toBe('/tmp/kc');
    expect(described).not.toHaveProperty('kubeconfig');
    expect(operatorUsage()).toContain('--diagnostics-address, --metrics-bind-address');
  });

  it('finds the lease namespace: flag, then service-account file, then context, then default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sa-'));
    const file = join(dir, 'namespace');
    expect(resolveLeaseNamespace('flagged', 'ctx', file)).toBe('flagged');
    expect(resolveLeaseNamespace('', 'ctx', file)).toBe('ctx');
    expect(resolveLeaseNamespace('', undefined, file)).toBe('default');
    writeFileSync(file, 'capi-system\n');
    expect(resolveLeaseNamespace('', 'ctx', file)).toBe('capi-system');
  });
});

describe('listen addresses', () => {
  it('parses host:port forms and treats "0"/"" as disabled', () => {
    expect(parseListenAddress(':9440')).toEqual({ host: undefined, port: 9440 });
    expect(parseListenAddress('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListenAddress('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(parseListenAddress('8080')).toEqual({ host: undefined, port: 8080 });
    expect(parseListenAddress('0')).toBeUndefined();
    expect(parseListenAddress('')).toBeUndefined();
    expect(() => parseListenAddress('localhost')).toThrow('invalid listen address');
    expect(() => parseListenAddress(':99999')).toThrow('invalid port');
  });
});
