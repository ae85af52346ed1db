import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BOOTSTRAP_CONTRACT_LABELS } from '../../../src/api/bootstrap/crds';
import { BOOTSTRAP_GROUP } from '../../../src/api/bootstrap/group';
import { CONTROLPLANE_CONTRACT_LABELS } from '../../../src/api/controlplane/crds';
import { projectCrds } from '../../../src/api/generate-crds';
import { parseOperatorFlags } from '../../../src/operator-flags';
import { CONVERSION_PATH } from '../../../src/api/crd';
import { TALOS_CONFIG_TEMPLATE_WEBHOOK } from '../../../src/webhooks/bootstrap';
import { CLUSTERCTL_VARIABLES, RELEASE_SERIES, deployFiles } from '../../../scripts/gen-deploy';
import type { ManifestObject } from '../../../scripts/deploy/manifests';
import {
  DEPLOY_DIR, findObject, kustomizeObjects, managerContainer, parseManifests, readManifests, substituteClusterctlDefaults,
} from './deploy-files';

const NAMESPACE = 'talos-capi-system';
const clusterctlText = () => readFileSync(join(DEPLOY_DIR, 'clusterctl/bootstrap-components.yaml'), 'utf8');
const clusterctlObjects = () => parseManifests(substituteClusterctlDefaults(clusterctlText()), 'bootstrap-components.yaml');

describe('deploy/ files', () => {
  it('match `npm run gen:deploy` output (run it after changing scripts/deploy, src/api or src/webhooks)', () => {
    const files = deployFiles();
    expect(Object.keys(files).length).toBeGreaterThan(10);
    for (const [path, text] of Object.entries(files)) {
      expect({ path, text: readFileSync(join(DEPLOY_DIR, path), 'utf8') }).toEqual({ path, text });
    }
  });

  it('parse as Kubernetes objects: kustomize base (15), clusterctl components (15)', () => {
    expect(kustomizeObjects().map((o) => o.kind)).toEqual([
      'Namespace', 'CustomResourceDefinition', 'CustomResourceDefinition', 'CustomResourceDefinition', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding',
      'Role', 'RoleBinding', 'Deployment', 'Service', 'Service', 'ValidatingWebhookConfiguration', 'Issuer', 'Certificate',
    ]);
    expect(clusterctlObjects().map((o) => o.kind)).toEqual(kustomizeObjects().map((o) => o.kind));
  });
});

describe.each([
  ['kustomize base', kustomizeObjects],
  ['clusterctl components (variables at their defaults)', clusterctlObjects],
])('%s', (_name, load) => {
  let objects: ManifestObject[];
  beforeAll(() => {
    objects = load();
  });

  it('holds exactly one Namespace and puts every namespaced object in it; every object carries the provider label', () => {
    expect(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name)).toEqual([NAMESPACE]);
    const clusterScoped = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'ValidatingWebhookConfiguration']);
    for (const object of objects) {
      expect([object.kind, object.metadata.namespace]).toEqual([object.kind, clusterScoped.has(object.kind) ? undefined : NAMESPACE]);
      expect(object.metadata.labels).toMatchObject({ 'cluster.x-k8s.io/provider': 'bootstrap-talos' });
    }
  });

  it('runs the manager with flags the operator accepts, on the ports the Deployment and Services expose', () => {
    const container = managerContainer(objects);
    const flags = parseOperatorFlags(container.args);
    expect(flags).toMatchObject({
      leaderElect: true, healthAddr: ':9440', metricsAddr: ':8080', webhookPort: 9443,
      webhookCertDir: '/tmp/k8s-webhook-server/serving-certs', featureGates: { MachinePool: true },
    });
    expect(container.ports.map((p) => [p.name, p.containerPort])).toEqual([['healthz', 9440], ['metrics', 8080], ['webhook-server', 9443]]);
    expect(container.volumeMounts).toEqual([expect.objectContaining({ name: 'cert', mountPath: flags.webhookCertDir })]);
    expect([container.livenessProbe.httpGet, container.readinessProbe.httpGet]).toEqual([
      { path: '/healthz', port: 'healthz' }, { path: '/readyz', port: 'healthz' },
    ]);
    const webhookService = findObject(objects, 'Service', 'talos-capi-webhook-service') as unknown as { spec: { ports: unknown[] } };
    expect(webhookService.spec.ports).toEqual([{ name: 'webhook-server', port: 443, targetPort: 'webhook-server', protocol: 'TCP' }]);
  });

  it('runs one non-root replica with a read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
    const deployment = findObject(objects, 'Deployment') as unknown as {
      spec: { replicas: number; template: { spec: { terminationGracePeriodSeconds: number; serviceAccountName: string } } };
    };
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.template.spec).toMatchObject({ serviceAccountName: 'talos-capi-manager' });
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

  it('serves the CRDs (with their contract labels) through the conversion webhook Service, CA injected by cert-manager', () => {
    const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
    expect(crds.map((o) => o.metadata.name)).toEqual(projectCrds().map((crd) => crd.metadata.name));
    for (const crd of crds.filter((o) => (o.spec as { group: string }).group === BOOTSTRAP_GROUP)) {
      expect(crd.metadata.labels).toMatchObject(BOOTSTRAP_CONTRACT_LABELS);
      expect(crd.metadata.annotations).toEqual({ 'cert-manager.io/inject-ca-from': `${NAMESPACE}/talos-capi-serving-cert` });
      expect((crd.spec as { conversion: unknown }).conversion).toEqual({
        strategy: 'Webhook',
        webhook: {
          conversionReviewVersions: ['v1'],
          clientConfig: { service: { namespace: NAMESPACE, name: 'talos-capi-webhook-service', port: 443, path: CONVERSION_PATH } },
        },
      });
    }
    // One version, nothing to convert.
    const controlPlane = findObject(crds, 'CustomResourceDefinition', 'taloscontrolplanes.controlplane.cluster.x-k8s.io');
    expect(controlPlane.metadata.labels).toMatchObject(CONTROLPLANE_CONTRACT_LABELS);
    expect((controlPlane.spec as { conversion?: unknown }).conversion).toBeUndefined();
  });

  it('registers the validating webhook the server serves, and issues the serving certificate for the Service name', () => {
    const configuration = findObject(objects, 'ValidatingWebhookConfiguration') as unknown as {
      metadata: { annotations: Record<string, string> };
      webhooks: { name: string; clientConfig: { service: { path: string; namespace: string } }; rules: unknown[] }[];
    };
    expect(configuration.metadata.annotations).toEqual({ 'cert-manager.io/inject-ca-from': `${NAMESPACE}/talos-capi-serving-cert` });
    expect(configuration.webhooks.map((w) => [w.name, w.clientConfig.service.path, w.clientConfig.service.namespace])).toEqual([
      [TALOS_CONFIG_TEMPLATE_WEBHOOK.name, TALOS_CONFIG_TEMPLATE_WEBHOOK.path, NAMESPACE],
    ]);
    const certificate = findObject(objects, 'Certificate') as unknown as { spec: { dnsNames: string[]; secretName: string; issuerRef: unknown } };
    expect(certificate.spec).toEqual({
      dnsNames: [`talos-capi-webhook-service.${NAMESPACE}.svc`, `talos-capi-webhook-service.${NAMESPACE}.svc.cluster.local`],
      issuerRef: { kind: 'Issuer', name: 'talos-capi-selfsigned-issuer' },
      secretName: 'talos-capi-webhook-service-cert',
    });
    const deployment = JSON.stringify(findObject(objects, 'Deployment'));
    expect(deployment).toContain('"secretName":"talos-capi-webhook-service-cert"');
  });
});

describe('clusterctl', () => {
  it('exposes its variables with defaults, named the way Cluster API names them or prefixed with TALOS_CAPI_', () => {
    const variables = [...clusterctlText().matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]);
    expect([...new Set(variables)]).toEqual(['EXP_MACHINE_POOL:=true', 'TALOS_CAPI_DIAGNOSTICS_ADDRESS:=:8080']);
    expect(Object.values(CLUSTERCTL_VARIABLES)).toEqual(['${EXP_MACHINE_POOL:=true}', '${TALOS_CAPI_DIAGNOSTICS_ADDRESS:=:8080}']);
    const args = managerContainer(parseManifests(clusterctlText(), 'raw')).args;
    expect(args).toEqual(expect.arrayContaining(['--feature-gates=MachinePool=${EXP_MACHINE_POOL:=true}', '--metrics-bind-address=${TALOS_CAPI_DIAGNOSTICS_ADDRESS:=:8080}']));
    // A user who sets the variables gets flags the operator still accepts.
    const custom = clusterctlText().replaceAll('${EXP_MACHINE_POOL:=true}', 'false').replaceAll('${TALOS_CAPI_DIAGNOSTICS_ADDRESS:=:8080}', '0');
    expect(parseOperatorFlags(managerContainer(parseManifests(custom, 'custom')).args)).toMatchObject({ featureGates: { MachinePool: false }, metricsAddr: '0' });
  });

  it('metadata maps release series 0.1 to contract v1beta2, the contract our CRDs label v1beta1 for', () => {
    const [metadata] = readManifests('clusterctl/metadata.yaml') as unknown as { apiVersion: string; kind: string; releaseSeries: unknown }[];
    expect(metadata).toEqual({ apiVersion: 'clusterctl.cluster.x-k8s.io/v1alpha3', kind: 'Metadata', releaseSeries: [{ major: 0, minor: 1, contract: 'v1beta2' }] });
    expect(RELEASE_SERIES.map((s) => s.contract).every((contract) => `cluster.x-k8s.io/${contract}` in BOOTSTRAP_CONTRACT_LABELS)).toBe(true);
    const version = JSON.parse(readFileSync(join(DEPLOY_DIR, '..', 'package.json'), 'utf8')).version as string;
    expect(RELEASE_SERIES).toContainEqual(expect.objectContaining({ major: Number(version.split('.')[0]), minor: Number(version.split('.')[1]) }));
  });
});
