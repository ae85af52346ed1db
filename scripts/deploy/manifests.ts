// Every object talos-capi installs, built once from settings. The kustomize base, the clusterctl
// components and the Helm chart are three renderings of these objects (scripts/gen-deploy.ts),
// so a port, a name or an RBAC rule cannot differ between them.
import { CONVERSION_PATH, WEBHOOK_SERVICE, type CustomResourceDefinition, type WebhookClientConfig } from '../../src/api/crd';
import { projectCrds } from '../../src/api/generate-crds';
import { validatingWebhookConfiguration } from '../../src/webhooks/admission';
import { providerWebhookRoutes } from '../../src/webhooks/routes';
import { bootstrapClusterRules, controlPlaneClusterRules, leaderElectionRules } from './rbac';

export const NAME_PREFIX = 'talos-capi';
export const DEFAULT_NAMESPACE = WEBHOOK_SERVICE.namespace;
export const WEBHOOK_SERVICE_NAME = WEBHOOK_SERVICE.name;
export const SERVICE_ACCOUNT_NAME = `${NAME_PREFIX}-manager`;
export const CLUSTER_ROLE_NAME = `${NAME_PREFIX}-manager-role`;
export const LEADER_ELECTION_ROLE_NAME = `${NAME_PREFIX}-leader-election-role`;
export const DEPLOYMENT_NAME = `${NAME_PREFIX}-controller-manager`;
export const CONTAINER_NAME = 'manager';
export const METRICS_SERVICE_NAME = `${NAME_PREFIX}-metrics-service`;
export const ISSUER_NAME = `${NAME_PREFIX}-selfsigned-issuer`;
export const CERTIFICATE_NAME = `${NAME_PREFIX}-serving-cert`;
export const WEBHOOK_CERT_SECRET = `${WEBHOOK_SERVICE_NAME}-cert`;

/** clusterctl's provider label; the one process is the bootstrap provider until the control-plane provider ships. */
export const PROVIDER_LABEL = { 'cluster.x-k8s.io/provider': 'bootstrap-talos' } as const;
/** What the Deployment selects its pods by (never changes between releases: selectors are immutable). */
export const SELECTOR_LABELS = { 'app.kubernetes.io/name': NAME_PREFIX, 'control-plane': 'controller-manager' } as const;

export const PORTS = { health: 9440, metrics: 8080, webhook: 9443 } as const;
export const WEBHOOK_CERT_DIR = '/tmp/k8s-webhook-server/serving-certs';
export const DEFAULT_IMAGE = `${NAME_PREFIX}:0.1.0`;

export interface ResourceRequirements {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

export const DEFAULT_RESOURCES: ResourceRequirements = {
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { cpu: '500m', memory: '512Mi' },
};

/** The operator flags each rendering passes, as values (clusterctl variables and Helm expressions are strings too). */
export interface OperatorArgs {
  machinePool: string;
  metricsBindAddress: string;
  /** Extra list entries after the fixed flags (the Helm chart's watchFilter and free-form flags). */
  extra: string[];
}

export const DEFAULT_FEATURE_GATES = { MachinePool: true } as const;

export interface DeploySettings {
  namespace: string;
  /** clusterctl and kustomize ship the Namespace; Helm leaves it to `--create-namespace`. */
  includeNamespace: boolean;
  /** Added to every object's labels. */
  labels: Record<string, string>;
  image: string;
  imagePullPolicy: string;
  /** A number, or a template expression standing for one. */
  replicas: number | string;
  /** The requirements, or a template expression standing for the block. */
  resources: ResourceRequirements | string;
  args: OperatorArgs;
  /** Annotations on objects whose CA bundle cert-manager injects (CRDs, webhook configuration). */
  caInjectionAnnotations: Record<string, string>;
  /** Extra annotations on CRDs only (Helm: keep them on uninstall). */
  crdAnnotations: Record<string, string>;
  /** A literal caBundle for webhook clients, when cert-manager does not inject one. */
  caBundle?: string;
}

export type ManifestObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: Record<string, unknown> };

/** The objects grouped the way the kustomize base files them. */
export interface ManifestParts {
  namespace: ManifestObject[];
  crds: ManifestObject[];
  rbac: ManifestObject[];
  manager: ManifestObject[];
  webhook: ManifestObject[];
  certManager: ManifestObject[];
}

function meta(settings: DeploySettings, name: string, namespaced = true, annotations?: Record<string, string>) {
  return {
    name,
    ...(namespaced ? { namespace: settings.namespace } : {}),
    labels: { ...settings.labels },
    ...(annotations && Object.keys(annotations).length ? { annotations } : {}),
  };
}

/**
 * In-flight reconciles get this long on SIGTERM; the pod's grace period adds room to release the
 * lease and flush Events, so that the kubelet never kills the manager mid-shutdown.
 */
const GRACEFUL_SHUTDOWN_SECONDS = 30;
const TERMINATION_GRACE_PERIOD_SECONDS = GRACEFUL_SHUTDOWN_SECONDS + 10;

export function operatorArgs(args: OperatorArgs): string[] {
  return [
    '--leader-elect',
    `--graceful-shutdown-timeout=${GRACEFUL_SHUTDOWN_SECONDS}s`,
    `--health-addr=:${PORTS.health}`,
    `--metrics-bind-address=${args.metricsBindAddress}`,
    `--webhook-port=${PORTS.webhook}`,
    `--webhook-cert-dir=${WEBHOOK_CERT_DIR}`,
    `--feature-gates=MachinePool=${args.machinePool}`,
    ...args.extra,
  ];
}

function clientConfig(settings: DeploySettings, path: string): WebhookClientConfig {
  return {
    service: { namespace: settings.namespace, name: WEBHOOK_SERVICE_NAME, port: WEBHOOK_SERVICE.port, path },
    ...(settings.caBundle !== undefined ? { caBundle: settings.caBundle } : {}),
  };
}

function crds(settings: DeploySettings): ManifestObject[] {
  return projectCrds().map((crd): ManifestObject => {
    const webhook = crd.spec.conversion?.webhook;
    const conversion: CustomResourceDefinition['spec']['conversion'] = webhook
      ? { strategy: 'Webhook', webhook: { ...webhook, clientConfig: clientConfig(settings, CONVERSION_PATH) } }
      : crd.spec.conversion;
    return {
      ...crd,
      metadata: {
        ...crd.metadata,
        labels: { ...crd.metadata.labels, ...settings.labels },
        annotations: { ...crd.metadata.annotations, ...settings.caInjectionAnnotations, ...settings.crdAnnotations },
      },
      spec: { ...crd.spec, conversion },
    };
  });
}

function rbac(settings: DeploySettings): ManifestObject[] {
  const subjects = [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT_NAME, namespace: settings.namespace }];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(settings, SERVICE_ACCOUNT_NAME) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: meta(settings, CLUSTER_ROLE_NAME, false),
      rules: [...bootstrapClusterRules(), ...controlPlaneClusterRules()],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta(settings, `${CLUSTER_ROLE_NAME}binding`, false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CLUSTER_ROLE_NAME },
      subjects,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(settings, LEADER_ELECTION_ROLE_NAME),
      rules: leaderElectionRules(),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(settings, `${LEADER_ELECTION_ROLE_NAME}binding`),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: LEADER_ELECTION_ROLE_NAME },
      subjects,
    },
  ];
}

function deployment(settings: DeploySettings): ManifestObject {
  const probe = (path: string) => ({ httpGet: { path, port: 'healthz' }, periodSeconds: 10 });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(settings, DEPLOYMENT_NAME),
    spec: {
      replicas: settings.replicas,
      selector: { matchLabels: { ...SELECTOR_LABELS } },
      template: {
        metadata: { labels: { ...settings.labels, ...SELECTOR_LABELS } },
        spec: {
          serviceAccountName: SERVICE_ACCOUNT_NAME,
          terminationGracePeriodSeconds: TERMINATION_GRACE_PERIOD_SECONDS,
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: CONTAINER_NAME,
              image: settings.image,
              imagePullPolicy: settings.imagePullPolicy,
              args: operatorArgs(settings.args),
              ports: [
                { name: 'healthz', containerPort: PORTS.health, protocol: 'TCP' },
                { name: 'metrics', containerPort: PORTS.metrics, protocol: 'TCP' },
                { name: 'webhook-server', containerPort: PORTS.webhook, protocol: 'TCP' },
              ],
              livenessProbe: { ...probe('/healthz'), initialDelaySeconds: 15 },
              readinessProbe: probe('/readyz'),
              resources: settings.resources,
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 65532,
                runAsGroup: 65532,
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
              volumeMounts: [{ name: 'cert', mountPath: WEBHOOK_CERT_DIR, readOnly: true }],
            },
          ],
          volumes: [{ name: 'cert', secret: { secretName: WEBHOOK_CERT_SECRET } }],
        },
      },
    },
  };
}

function service(settings: DeploySettings, name: string, port: number, targetPort: string): ManifestObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(settings, name),
    spec: { selector: { ...SELECTOR_LABELS }, ports: [{ name: targetPort, port, targetPort, protocol: 'TCP' }] },
  };
}

function webhookConfiguration(settings: DeploySettings): ManifestObject {
  const { validators } = providerWebhookRoutes();
  const configuration = validatingWebhookConfiguration(validators, (path) => clientConfig(settings, path));
  const name = (configuration.metadata as { name: string }).name;
  return {
    ...configuration,
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: meta(settings, name, false, settings.caInjectionAnnotations),
  };
}

function certManager(settings: DeploySettings): ManifestObject[] {
  const host = `${WEBHOOK_SERVICE_NAME}.${settings.namespace}.svc`;
  return [
    { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: meta(settings, ISSUER_NAME), spec: { selfSigned: {} } },
    {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: meta(settings, CERTIFICATE_NAME),
      spec: {
        dnsNames: [host, `${host}.cluster.local`],
        issuerRef: { kind: 'Issuer', name: ISSUER_NAME },
        secretName: WEBHOOK_CERT_SECRET,
      },
    },
  ];
}

/** cert-manager's annotation asking it to inject our serving certificate's CA into webhook clients. */
export function caInjectionAnnotation(namespace: string): Record<string, string> {
  return { 'cert-manager.io/inject-ca-from': `${namespace}/${CERTIFICATE_NAME}` };
}

export function manifestParts(settings: DeploySettings): ManifestParts {
  return {
    namespace: settings.includeNamespace
      ? [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: settings.namespace, labels: { ...settings.labels } } }]
      : [],
    crds: crds(settings),
    rbac: rbac(settings),
    manager: [deployment(settings)],
    webhook: [
      service(settings, WEBHOOK_SERVICE_NAME, WEBHOOK_SERVICE.port, 'webhook-server'),
      service(settings, METRICS_SERVICE_NAME, PORTS.metrics, 'metrics'),
      webhookConfiguration(settings),
    ],
    certManager: certManager(settings),
  };
}

/** Kustomize base and clusterctl: everything with literal values and cert-manager. */
export function literalSettings(args: OperatorArgs, namespace = DEFAULT_NAMESPACE): DeploySettings {
  return {
    namespace,
    includeNamespace: true,
    labels: { ...PROVIDER_LABEL },
    image: DEFAULT_IMAGE,
    imagePullPolicy: 'IfNotPresent',
    replicas: 1,
    resources: DEFAULT_RESOURCES,
    args,
    caInjectionAnnotations: caInjectionAnnotation(namespace),
    crdAnnotations: {},
  };
}

export function allObjects(parts: ManifestParts): ManifestObject[] {
  return [...parts.namespace, ...parts.crds, ...parts.rbac, ...parts.manager, ...parts.webhook, ...parts.certManager];
}
