import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BOOTSTRAP_CONTRACT_LABELS } from '../../../src/api/bootstrap/crds';
import { BOOTSTRAP_GROUP } from '../../../src/api/bootstrap/group';
import { CONTROLPLANE_CONTRACT_LABELS } from '../../../src/api/controlplane/crds';
import { CONVERSION_PATH } from '../../../src/api/crd';
import { parseOperatorFlags, type ProviderName } from '../../../src/operator-flags';
import { TALOS_CONFIG_TEMPLATE_WEBHOOK } from '../../../src/webhooks/bootstrap';
import { CLUSTERCTL_VARIABLES, RELEASE_SERIES, deployFiles } from '../../../scripts/gen-deploy';
import type { ManifestObject } from '../../../scripts/deploy/manifests';
import {
  DEPLOY_DIR, clusterctlObjects, clusterctlText, findObject, kustomizeObjects, managerContainer, parseManifests, readManifests,
} from './deploy-files';

const CLUSTER_SCOPED = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'ValidatingWebhookConfiguration']);

describe('deploy/ files', () => {
  it('match `npm run gen:deploy` output (run it after changing scripts/deploy, src/api or src/webhooks)', () => {
    const files = deployFiles();
    expect(Object.keys(files).length).toBeGreaterThan(10);
    for (const [path, text] of Object.entries(files)) {
      expect({ path, text: readFileSync(join(DEPLOY_DIR, path), 'utf8') }).toEqual({ path, text });
    }
  });

  it('parse as Kubernetes objects: the kustomize base (both providers) and one components file per clusterctl provider', () => {
    // The second ClusterRole is the metrics reader, for scrapers to be bound to.
    const rbacAndManager = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ClusterRole', 'Deployment'];
    expect(kustomizeObjects().map((o) => o.kind)).toEqual([
      'Namespace', ...Array(4).fill('CustomResourceDefinition'), ...rbacAndManager, 'Service', 'Service', 'ValidatingWebhookConfiguration', 'Issuer', 'Certificate',
    ]);
    expect(clusterctlObjects('bootstrap').map((o) => o.kind)).toEqual([
      'Namespace', 'CustomResourceDefinition', 'CustomResourceDefinition', ...rbacAndManager, 'Service', 'Service', 'ValidatingWebhookConfiguration', 'Issuer', 'Certificate',
    ]);
    // Conversion (TalosControlPlane) but no admission webhook: a webhook Service and serving certificate, no configuration.
    expect(clusterctlObjects('controlplane').map((o) => o.kind)).toEqual([
      'Namespace', 'CustomResourceDefinition', 'CustomResourceDefinition', ...rbacAndManager, 'Service', 'Service', 'Issuer', 'Certificate',
    ]);
  });
});

interface Expected {
  namespace: string;
  prefix: string;
  /** The provider label every object carries, if the install has one. */
  label?: string;
  providers: ProviderName[];
  crds: string[];
}

const BOOTSTRAP_CRDS = ['talosconfigs.bootstrap.cluster.x-k8s.io', 'talosconfigtemplates.bootstrap.cluster.x-k8s.io'];
const CONTROL_PLANE_CRDS = ['taloscontrolplanes.controlplane.cluster.x-k8s.io', 'taloscontrolplanetemplates.controlplane.cluster.x-k8s.io'];

const KUSTOMIZE: [string, () => ManifestObject[], Expected] = ['kustomize base', kustomizeObjects, {
  namespace: 'talos-capi-system', prefix: 'talos-capi', providers: ['bootstrap', 'controlplane'], crds: [...BOOTSTRAP_CRDS, ...CONTROL_PLANE_CRDS],
}];
const CLUSTERCTL_BOOTSTRAP: [string, () => ManifestObject[], Expected] = ['clusterctl bootstrap-talos (variables at their defaults)', () => clusterctlObjects('bootstrap'), {
  namespace: 'cabpt-system', prefix: 'talos-capi-bootstrap', label: 'bootstrap-talos', providers: ['bootstrap'], crds: BOOTSTRAP_CRDS,
}];
const CLUSTERCTL_CONTROL_PLANE: [string, () => ManifestObject[], Expected] = ['clusterctl control-plane-talos (variables at their defaults)', () => clusterctlObjects('controlplane'), {
  namespace: 'cacppt-system', prefix: 'talos-capi-control-plane', label: 'control-plane-talos', providers: ['controlplane'], crds: CONTROL_PLANE_CRDS,
}];

describe.each([KUSTOMIZE, CLUSTERCTL_BOOTSTRAP, CLUSTERCTL_CONTROL_PLANE])('%s', (_name, load, expected) => {
  let objects: ManifestObject[];
  beforeAll(() => {
    objects = load();
  });
  // Both providers convert a CRD of theirs (TalosConfig, TalosControlPlane).
  const webhooks = true;

  it('holds exactly one Namespace and puts every namespaced object in it, every name under its prefix', () => {
    expect(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)).toEqual([expected.namespace]);
    for (const object of objects) {
      expect([object.kind, object.metadata.namespace]).toEqual([object.kind, CLUSTER_SCOPED.has(object.kind) ? undefined : expected.namespace]);
      if (!['Namespace', 'CustomResourceDefinition'].includes(object.kind)) expect(object.metadata.name).toMatch(new RegExp(`^${expected.prefix}-`));
    }
  });

  it('labels every object with its clusterctl provider, and each CRD with the provider that owns it', () => {
    for (const object of objects) {
      if (expected.label) expect([object.kind, object.metadata.labels]).toEqual([object.kind, expect.objectContaining({ 'cluster.x-k8s.io/provider': expected.label })]);
      else expect(object.metadata.labels).toMatchObject({ 'app.kubernetes.io/name': 'talos-capi' });
    }
    const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
    expect(crds.map((crd) => [crd.metadata.name, (crd.metadata.labels as Record<string, string>)['cluster.x-k8s.io/provider']])).toEqual(
      expected.crds.map((name) => [name, name.includes('.bootstrap.') ? 'bootstrap-talos' : 'control-plane-talos']),
    );
  });

  it('runs the manager with flags the operator accepts: its providers, its own lease, the ports the Deployment and Services expose', () => {
    const container = managerContainer(objects);
    const flags = parseOperatorFlags(container.args);
    expect(flags).toMatchObject({
      controllers: expected.providers, leaderElect: true, leaderElectionId: `controller-leader-election-${expected.prefix}`,
      healthAddr: ':9440', metricsAddr: ':8443', insecureDiagnostics: false, webhookPort: webhooks ? 9443 : -1,
      featureGates: expected.providers.includes('bootstrap') ? { MachinePool: true } : {},
    });
    expect(container.ports.map((p) => [p.name, p.containerPort])).toEqual([['healthz', 9440], ['metrics', 8443], ...(webhooks ? [['webhook-server', 9443]] : [])]);
    expect(container.volumeMounts).toEqual(webhooks ? [expect.objectContaining({ name: 'cert', mountPath: flags.webhookCertDir })] : undefined);
    expect([container.livenessProbe.httpGet, container.readinessProbe.httpGet]).toEqual([
      { path: '/healthz', port: 'healthz' }, { path: '/readyz', port: 'healthz' },
    ]);
    const services = objects.filter((o) => o.kind === 'Service') as unknown as { metadata: { name: string }; spec: { ports: unknown[]; selector: unknown } }[];
    expect(services.map((s) => [s.metadata.name, s.spec.ports])).toEqual([
      ...(webhooks ? [[`${expected.prefix}-webhook-service`, [{ name: 'webhook-server', port: 443, targetPort: 'webhook-server', protocol: 'TCP' }]]] : []),
      [`${expected.prefix}-metrics-service`, [{ name: 'metrics', port: 8443, targetPort: 'metrics', protocol: 'TCP' }]],
    ]);
    const deployment = findObject(objects, 'Deployment') as unknown as { spec: { selector: { matchLabels: unknown } } };
    for (const service of services) expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(deployment.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': expected.prefix, 'control-plane': 'controller-manager' });
  });

  it('runs one non-root replica with a read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
    const deployment = findObject(objects, 'Deployment') as unknown as {
      spec: { replicas: number; template: { spec: { terminationGracePeriodSeconds: number; serviceAccountName: string } } };
    };
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.template.spec).toMatchObject({ serviceAccountName: `${expected.prefix}-manager` });
    const container = managerContainer(objects);
    // The kubelet must not SIGKILL the manager while reconciles still have their graceful-shutdown time.
    const { gracefulShutdownTimeoutMs } = parseOperatorFlags(container.args);
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(gracefulShutdownTimeoutMs);
    expect(container.securityContext).toEqual({
      runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } });
  });

  it('serves its CRDs (with their contract labels) through the conversion webhook Service, CA injected by cert-manager', () => {
    const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
    expect(crds.map((o) => o.metadata.name)).toEqual(expected.crds);
    const converting = [...BOOTSTRAP_CRDS, CONTROL_PLANE_CRDS[0]!];
    for (const crd of crds.filter((o) => converting.includes(String(o.metadata.name)))) {
      expect(crd.metadata.labels).toMatchObject((crd.spec as { group: string }).group === BOOTSTRAP_GROUP ? BOOTSTRAP_CONTRACT_LABELS : CONTROLPLANE_CONTRACT_LABELS);
      expect(crd.metadata.annotations).toEqual({ 'cert-manager.io/inject-ca-from': `${expected.namespace}/${expected.prefix}-serving-cert` });
      expect((crd.spec as { conversion: unknown }).conversion).toEqual({
        strategy: 'Webhook',
        webhook: {
          conversionReviewVersions: ['v1'],
          clientConfig: { service: { namespace: expected.namespace, name: `${expected.prefix}-webhook-service`, port: 443, path: CONVERSION_PATH } },
        },
      });
    }
    // The template has one version: nothing to convert, nothing to inject.
    for (const crd of crds.filter((o) => o.metadata.name === CONTROL_PLANE_CRDS[1])) {
      expect(crd.metadata.labels).toMatchObject({ 'cluster.x-k8s.io/v1beta2': 'v1beta1' });
      expect(Object.keys(crd.metadata.labels ?? {})).not.toContain('cluster.x-k8s.io/v1beta1');
      expect(crd.metadata.annotations).toBeUndefined();
      expect((crd.spec as { conversion?: unknown }).conversion).toBeUndefined();
    }
  });
});

// The installs that run the bootstrap provider, whose CRDs convert and whose templates are validated.
describe.each([KUSTOMIZE, CLUSTERCTL_BOOTSTRAP])('%s webhooks', (_name, load, expected) => {
  it('registers the validating webhook the server serves, and issues the serving certificate for the Service name', () => {
    const configuration = findObject(load(), 'ValidatingWebhookConfiguration') as unknown as {
      metadata: { name: string; annotations: Record<string, string> };
      webhooks: { name: string; clientConfig: { service: { path: string; namespace: string } }; rules: unknown[] }[];
    };
    expect(configuration.metadata.name).toBe(`${expected.prefix}-validating-webhook-configuration`);
    expect(configuration.metadata.annotations).toEqual({ 'cert-manager.io/inject-ca-from': `${expected.namespace}/${expected.prefix}-serving-cert` });
    expect(configuration.webhooks.map((w) => [w.name, w.clientConfig.service.path, w.clientConfig.service.namespace])).toEqual([
      [TALOS_CONFIG_TEMPLATE_WEBHOOK.name, TALOS_CONFIG_TEMPLATE_WEBHOOK.path, expected.namespace],
    ]);
    const certificate = findObject(load(), 'Certificate') as unknown as { spec: { dnsNames: string[]; secretName: string; issuerRef: unknown } };
    const host = `${expected.prefix}-webhook-service.${expected.namespace}.svc`;
    expect(certificate.spec).toEqual({
      dnsNames: [host, `${host}.cluster.local`],
      issuerRef: { kind: 'Issuer', name: `${expected.prefix}-selfsigned-issuer` },
      secretName: `${expected.prefix}-webhook-service-cert`,
    });
    expect(JSON.stringify(findObject(load(), 'Deployment'))).toContain(`"secretName":"${expected.prefix}-webhook-service-cert"`);
  });
});

describe('clusterctl', () => {
  it('the two providers share no cluster-scoped name, so both install side by side (even into one namespace)', () => {
    const names = (provider: ProviderName) =>
      clusterctlObjects(provider).filter((o) => CLUSTER_SCOPED.has(o.kind) || o.kind === 'Deployment').map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names('bootstrap').filter((name) => names('controlplane').includes(name))).toEqual([]);
  });

  it('exposes its variables with defaults, named the way Cluster API names them or prefixed with TALOS_CAPI_', () => {
    const variables = (provider: ProviderName) => [...new Set([...clusterctlText(provider).matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]))];
    const diagnostics = ['TALOS_CAPI_DIAGNOSTICS_ADDRESS:=:8443', 'TALOS_CAPI_INSECURE_DIAGNOSTICS:=false'];
    expect(variables('bootstrap')).toEqual([...diagnostics, 'EXP_MACHINE_POOL:=true']);
    expect(variables('controlplane')).toEqual(diagnostics);
    expect(Object.values(CLUSTERCTL_VARIABLES)).toEqual(['${EXP_MACHINE_POOL:=true}', '${TALOS_CAPI_DIAGNOSTICS_ADDRESS:=:8443}', '${TALOS_CAPI_INSECURE_DIAGNOSTICS:=false}']);
    // A user who sets the variables gets flags the operator still accepts.
    const custom = clusterctlText('bootstrap').replaceAll('${EXP_MACHINE_POOL:=true}', 'false').replaceAll('${TALOS_CAPI_DIAGNOSTICS_ADDRESS:=:8443}', '0')
      .replaceAll('${TALOS_CAPI_INSECURE_DIAGNOSTICS:=false}', 'true');
    expect(parseOperatorFlags(managerContainer(parseManifests(custom, 'custom')).args)).toMatchObject({ featureGates: { MachinePool: false }, metricsAddr: '0', insecureDiagnostics: true });
  });

  it('metadata maps release series 0.1 to contract v1beta2, the contract both providers\' CRDs label', () => {
    const [metadata] = readManifests('clusterctl/metadata.yaml') as unknown as { apiVersion: string; kind: string; releaseSeries: unknown }[];
    expect(metadata).toEqual({ apiVersion: 'clusterctl.cluster.x-k8s.io/v1alpha3', kind: 'Metadata', releaseSeries: [{ major: 0, minor: 1, contract: 'v1beta2' }] });
    for (const labels of [BOOTSTRAP_CONTRACT_LABELS, CONTROLPLANE_CONTRACT_LABELS]) {
      expect(RELEASE_SERIES.every((series) => `cluster.x-k8s.io/${series.contract}` in labels)).toBe(true);
    }
    const version = JSON.parse(readFileSync(join(DEPLOY_DIR, '..', 'package.json'), 'utf8')).version as string;
    expect(RELEASE_SERIES).toContainEqual(expect.objectContaining({ major: Number(version.split('.')[0]), minor: Number(version.split('.')[1]) }));
  });
});
