// Every object talos-capi installs, built from settings. The kustomize base, the two clusterctl
// providers and the Helm chart are renderings of these objects (scripts/gen-deploy.ts), so a
// port, a name or an RBAC rule cannot differ between them.
import { BOOTSTRAP_GROUP } from '../../src/api/bootstrap/group';
import { CONTROLPLANE_GROUP } from '../../src/api/controlplane/group';
import { CONVERSION_PATH, WEBHOOK_SERVICE, type CustomResourceDefinition, type WebhookClientConfig } from '../../src/api/crd';
import { projectCrds } from '../../src/api/generate-crds';
import { webhookRoutesFor } from '../../src/controllers';
import { PROVIDERS, controllersArg, type ProviderName } from '../../src/operator-flags';
import { validatingWebhookConfiguration } from '../../src/webhooks/admission';
import { METRICS_READER_RULES, clusterRulesFor, leaderElectionRules } from './rbac';

/** What one Deployment runs, and where: both providers (Helm, kustomize) or one (each clusterctl provider). */
export interface Install {
  providers: readonly ProviderName[];
  /** Starts every object's name; the two clusterctl providers must not share a cluster-scoped name. */
  namePrefix: string;
  namespace: string;
  /** On every object. */
  labels: Record<string, string>;
}

const PROVIDER_LABEL = 'cluster.x-k8s.io/provider';
/** clusterctl's provider labels (<type>-<name>), which also mark each provider's CRDs in every install. */
export const PROVIDER_LABELS: Record<ProviderName, string> = { bootstrap: 'bootstrap-talos', controlplane: 'control-plane-talos' };
const CRD_GROUPS: Record<ProviderName, string> = { bootstrap: BOOTSTRAP_GROUP, controlplane: CONTROLPLANE_GROUP };

export const NAME_PREFIX = 'talos-capi';
/** One process running both providers: the Helm chart and the kustomize base. */
export const COMBINED_INSTALL: Install = {
  providers: PROVIDERS, namePrefix: NAME_PREFIX, namespace: WEBHOOK_SERVICE.namespace, labels: { 'app.kubernetes.io/name': NAME_PREFIX },
};

/** A clusterctl provider: one of the two providers alone, in the namespace CABPT or CACPPT uses, so an upgrade from those keeps it. */
export function clusterctlInstall(provider: ProviderName): Install {
  const names = { bootstrap: ['bootstrap', 'cabpt-system'], controlplane: ['control-plane', 'cacppt-system'] } as const;
  const [suffix, namespace] = names[provider];
  return { providers: [provider], namePrefix: `${NAME_PREFIX}-${suffix}`, namespace, labels: { [PROVIDER_LABEL]: PROVIDER_LABELS[provider] } };
}

/** The name of each object of an install. */
export function objectNames(install: Pick<Install, 'namePrefix'>) {
  const prefix = install.namePrefix;
  return {
    serviceAccount: `${prefix}-manager`,
    clusterRole: `${prefix}-manager-role`,
    leaderElectionRole: `${prefix}-leader-election-role`,
    deployment: `${prefix}-controller-manager`,
    webhookService: `${prefix}-webhook-service`,
    metricsService: `${prefix}-metrics-service`,
    metricsReaderRole: `${prefix}-metrics-reader`,
    validatingWebhookConfiguration: `${prefix}-validating-webhook-configuration`,
    issuer: `${prefix}-selfsigned-issuer`,
    certificate: `${prefix}-serving-cert`,
    webhookCertSecret: `${prefix}-webhook-service-cert`,
    leaderElectionId: `controller-leader-election-${prefix}`,
  };
}

/** What the Deployment selects its pods by (never changes between releases: selectors are immutable). */
export function selectorLabels(install: Pick<Install, 'namePrefix'>): Record<string, string> {
  return { 'app.kubernetes.io/name': install.namePrefix, 'control-plane': 'controller-manager' };
}

export const CONTAINER_NAME = 'manager';
export const PORTS = { health: 9440, metrics: 8443, webhook: 9443 } as const;
export const WEBHOOK_CERT_DIR = '/tmp/k8s-webhook-server/serving-certs';
/**
 * No image is published: `localhost/` marks one you build from the Dockerfile and load or push
 * yourself (then point the chart, kustomize or clusterctl's image overrides at it). clusterctl
 * refuses image names that are not fully qualified, so the default is one.
 */
export const DEFAULT_IMAGE = `localhost/${NAME_PREFIX}:0.1.0`;
/** The image's user (Dockerfile); the manifests ask for the same one. */
export const RUN_AS_USER = 65532;

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
  /** The MachinePool gate; only the bootstrap provider has machine pools to serve. */
  machinePool: string;
  metricsBindAddress: string;
  /** `true` serves /metrics over plain HTTP without authentication (the upstream --insecure-diagnostics). */
  insecureDiagnostics: string;
  /** Extra list entries after the fixed flags (the Helm chart's watchFilter and free-form flags). */
  extra: string[];
}

export const DEFAULT_FEATURE_GATES = { MachinePool: true } as const;

export interface DeploySettings {
  install: Install;
  /** clusterctl and kustomize ship the Namespace; Helm leaves it to `--create-namespace`. */
  includeNamespace: boolean;
  /** Added to every object's labels, after the install's. */
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

export function objectMeta(settings: DeploySettings, name: string, namespaced = true, annotations?: Record<string, string>) {
  return {
    name,
    ...(namespaced ? { namespace: settings.install.namespace } : {}),
    labels: { ...settings.install.labels, ...settings.labels },
    ...(annotations && Object.keys(annotations).length ? { annotations } : {}),
  };
}

function providerCrds(install: Install): CustomResourceDefinition[] {
  const groups = new Set(install.providers.map((provider) => CRD_GROUPS[provider]));
  return projectCrds().filter((crd) => groups.has(crd.spec.group));
}

function crdProviderLabel(crd: CustomResourceDefinition): Record<string, string> {
  const provider = PROVIDERS.find((name) => CRD_GROUPS[name] === crd.spec.group);
  return provider ? { [PROVIDER_LABEL]: PROVIDER_LABELS[provider] } : {};
}

/** Whether the install's apiserver calls need a webhook server: conversions of its CRDs or admission checks. */
export function servesWebhooks(install: Install): boolean {
  return providerCrds(install).some((crd) => crd.spec.conversion?.strategy === 'Webhook') || webhookRoutesFor(install.providers).validators.length > 0;
}

/**
 * In-flight reconciles get this long on SIGTERM; the pod's grace period adds room to release the
 * lease and flush Events, so that the kubelet never kills the manager mid-shutdown.
 */
const GRACEFUL_SHUTDOWN_SECONDS = 30;
const TERMINATION_GRACE_PERIOD_SECONDS = GRACEFUL_SHUTDOWN_SECONDS + 10;

export function operatorArgs(install: Install, args: OperatorArgs): string[] {
  return [
    `--controllers=${controllersArg(install.providers)}`,
    '--leader-elect',
    `--leader-election-id=${objectNames(install).leaderElectionId}`,
    `--graceful-shutdown-timeout=${GRACEFUL_SHUTDOWN_SECONDS}s`,
    `--health-addr=:${PORTS.health}`,
    `--diagnostics-address=${args.metricsBindAddress}`,
    `--insecure-diagnostics=${args.insecureDiagnostics}`,
    // No webhooks, no serving certificate to mount: the server stays off.
    ...(servesWebhooks(install) ? [`--webhook-port=${PORTS.webhook}`, `--webhook-cert-dir=${WEBHOOK_CERT_DIR}`] : ['--webhook-port=-1']),
    ...(install.providers.includes('bootstrap') ? [`--feature-gates=MachinePool=${args.machinePool}`] : []),
    ...args.extra,
  ];
}

function clientConfig(settings: DeploySettings, path: string): WebhookClientConfig {
  return {
    service: { namespace: settings.install.namespace, name: objectNames(settings.install).webhookService, port: WEBHOOK_SERVICE.port, path },
    ...(settings.caBundle !== undefined ? { caBundle: settings.caBundle } : {}),
  };
}

function crds(settings: DeploySettings): ManifestObject[] {
  return providerCrds(settings.install).map((crd): ManifestObject => {
    const webhook = crd.spec.conversion?.webhook;
    const conversion: CustomResourceDefinition['spec']['conversion'] = webhook
      ? { strategy: 'Webhook', webhook: { ...webhook, clientConfig: clientConfig(settings, CONVERSION_PATH) } }
      : crd.spec.conversion;
    return {
      ...crd,
      metadata: {
        ...crd.metadata,
        labels: { ...crd.metadata.labels, ...settings.install.labels, ...crdProviderLabel(crd), ...settings.labels },
        ...(webhook || Object.keys(settings.crdAnnotations).length
          ? { annotations: { ...crd.metadata.annotations, ...(webhook ? settings.caInjectionAnnotations : {}), ...settings.crdAnnotations } }
          : {}),
      },
      spec: { ...crd.spec, conversion },
    };
  });
}

function rbac(settings: DeploySettings): ManifestObject[] {
  const names = objectNames(settings.install);
  const subjects = [{ kind: 'ServiceAccount', name: names.serviceAccount, namespace: settings.install.namespace }];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: objectMeta(settings, names.serviceAccount) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: objectMeta(settings, names.clusterRole, false),
      rules: clusterRulesFor(settings.install.providers),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: objectMeta(settings, `${names.clusterRole}binding`, false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: names.clusterRole },
      subjects,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: objectMeta(settings, names.leaderElectionRole),
      rules: leaderElectionRules(),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: objectMeta(settings, `${names.leaderElectionRole}binding`),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: names.leaderElectionRole },
      subjects,
    },
    // For Prometheus (or whoever scrapes) to be bound to: /metrics answers only identities that may get it.
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: objectMeta(settings, names.metricsReaderRole, false), rules: METRICS_READER_RULES },
  ];
}

function deployment(settings: DeploySettings): ManifestObject {
  const { install } = settings;
  const names = objectNames(install);
  const webhooks = servesWebhooks(install);
  const probe = (path: string) => ({ httpGet: { path, port: 'healthz' }, periodSeconds: 10 });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: objectMeta(settings, names.deployment),
    spec: {
      replicas: settings.replicas,
      selector: { matchLabels: selectorLabels(install) },
      template: {
        metadata: { labels: { ...install.labels, ...settings.labels, ...selectorLabels(install) } },
        spec: {
          serviceAccountName: names.serviceAccount,
          terminationGracePeriodSeconds: TERMINATION_GRACE_PERIOD_SECONDS,
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: CONTAINER_NAME,
              image: settings.image,
              imagePullPolicy: settings.imagePullPolicy,
              args: operatorArgs(install, settings.args),
              ports: [
                { name: 'healthz', containerPort: PORTS.health, protocol: 'TCP' },
                { name: 'metrics', containerPort: PORTS.metrics, protocol: 'TCP' },
                ...(webhooks ? [{ name: 'webhook-server', containerPort: PORTS.webhook, protocol: 'TCP' }] : []),
              ],
              livenessProbe: { ...probe('/healthz'), initialDelaySeconds: 15 },
              readinessProbe: probe('/readyz'),
              resources: settings.resources,
              securityContext: {
                runAsNonRoot: true,
                runAsUser: RUN_AS_USER,
                runAsGroup: RUN_AS_USER,
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
              ...(webhooks ? { volumeMounts: [{ name: 'cert', mountPath: WEBHOOK_CERT_DIR, readOnly: true }] } : {}),
            },
          ],
          ...(webhooks ? { volumes: [{ name: 'cert', secret: { secretName: names.webhookCertSecret } }] } : {}),
        },
      },
    },
  };
}

/** The component label tells the metrics Service apart (a ServiceMonitor selects it). */
export const METRICS_COMPONENT = { 'app.kubernetes.io/component': 'metrics' } as const;

function service(settings: DeploySettings, name: string, port: number, targetPort: string, labels: Record<string, string> = {}): ManifestObject {
  const metadata = objectMeta(settings, name);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { ...metadata, labels: { ...metadata.labels, ...labels } },
    spec: { selector: selectorLabels(settings.install), ports: [{ name: targetPort, port, targetPort, protocol: 'TCP' }] },
  };
}

function webhookConfigurations(settings: DeploySettings): ManifestObject[] {
  const { validators } = webhookRoutesFor(settings.install.providers);
  if (!validators.length) return [];
  const configuration = validatingWebhookConfiguration(validators, (path) => clientConfig(settings, path));
  return [{
    ...configuration,
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: objectMeta(settings, objectNames(settings.install).validatingWebhookConfiguration, false, settings.caInjectionAnnotations),
  }];
}

/** The DNS names the webhook serving certificate must hold. */
export function webhookDnsNames(install: Install): string[] {
  const host = `${objectNames(install).webhookService}.${install.namespace}.svc`;
  return [host, `${host}.cluster.local`];
}

function certManager(settings: DeploySettings): ManifestObject[] {
  const names = objectNames(settings.install);
  return [
    { apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: objectMeta(settings, names.issuer), spec: { selfSigned: {} } },
    {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: objectMeta(settings, names.certificate),
      spec: { dnsNames: webhookDnsNames(settings.install), issuerRef: { kind: 'Issuer', name: names.issuer }, secretName: names.webhookCertSecret },
    },
  ];
}

/** cert-manager's annotation asking it to inject our serving certificate's CA into webhook clients. */
export function caInjectionAnnotation(install: Install): Record<string, string> {
  return { 'cert-manager.io/inject-ca-from': `${install.namespace}/${objectNames(install).certificate}` };
}

export function manifestParts(settings: DeploySettings): ManifestParts {
  const { install } = settings;
  const names = objectNames(install);
  const webhooks = servesWebhooks(install);
  return {
    namespace: settings.includeNamespace
      ? [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: install.namespace, labels: { ...install.labels, ...settings.labels } } }]
      : [],
    crds: crds(settings),
    rbac: rbac(settings),
    manager: [deployment(settings)],
    webhook: [
      ...(webhooks ? [service(settings, names.webhookService, WEBHOOK_SERVICE.port, 'webhook-server')] : []),
      service(settings, names.metricsService, PORTS.metrics, 'metrics', METRICS_COMPONENT),
      ...webhookConfigurations(settings),
    ],
    certManager: webhooks ? certManager(settings) : [],
  };
}

/** Kustomize base and clusterctl: everything with literal values and cert-manager. */
export function literalSettings(install: Install, args: OperatorArgs): DeploySettings {
  return {
    install,
    includeNamespace: true,
    labels: {},
    image: DEFAULT_IMAGE,
    imagePullPolicy: 'IfNotPresent',
    replicas: 1,
    resources: DEFAULT_RESOURCES,
    args,
    caInjectionAnnotations: caInjectionAnnotation(install),
    crdAnnotations: {},
  };
}

export function allObjects(parts: ManifestParts): ManifestObject[] {
  return [...parts.namespace, ...parts.crds, ...parts.rbac, ...parts.manager, ...parts.webhook, ...parts.certManager];
}
