// The Helm chart: the same objects as the kustomize base, with placeholders where values apply.
// Placeholders are plain tokens while the objects go through the YAML writer, then each becomes
// its Go template text, so the chart cannot drift from the other renderings.
import {
  DEFAULT_FEATURE_GATES, DEFAULT_IMAGE, DEFAULT_RESOURCES, PORTS, PROVIDER_LABEL,
  caInjectionAnnotation, manifestParts, type DeploySettings, type ManifestParts,
} from './manifests';
import { renderObjects } from './render';

type Placement =
  /** The token is replaced by the expression in place. */
  | { kind: 'inline'; expression: string }
  /** The line holding the token is kept only when `open` allows it (`if …` or `range …`). */
  | { kind: 'wrap'; open: string; expression: string }
  /** `key: token` becomes `key:` followed by the expression's YAML block, indented below the key. */
  | { kind: 'block'; expression: string };

class Placeholders {
  private readonly placements: Placement[] = [];

  private add(placement: Placement): string {
    this.placements.push(placement);
    return `__HELM_${this.placements.length - 1}__`;
  }

  inline(expression: string): string {
    return this.add({ kind: 'inline', expression });
  }

  wrap(open: string, expression: string): string {
    return this.add({ kind: 'wrap', open, expression });
  }

  block(expression: string): string {
    return this.add({ kind: 'block', expression });
  }

  /** Replaces every token in rendered YAML (tokens may nest: a wrapped value can hold the namespace token). */
  apply(text: string): string {
    return text.split('\n').flatMap((line) => this.applyToLine(line)).join('\n');
  }

  private applyToLine(line: string): string[] {
    const match = /__HELM_(\d+)__/.exec(line);
    if (!match) return [line];
    const placement = this.placements[Number(match[1])]!;
    const indent = /^\s*/.exec(line)![0];
    switch (placement.kind) {
      case 'inline':
        return this.applyToLine(line.replaceAll(match[0], placement.expression));
      case 'wrap':
        return [`${indent}{{- ${placement.open} }}`, ...this.applyToLine(line.replace(match[0], placement.expression)), `${indent}{{- end }}`];
      case 'block': {
        const depth = indent.length + 2;
        return [line.replace(` ${match[0]}`, ''), `${' '.repeat(depth)}{{- ${placement.expression} | nindent ${depth} }}`];
      }
    }
  }
}

export const CHART_NAME = 'talos-capi';

/** values.yaml: the defaults every other rendering uses literally. */
export function chartValues(): Record<string, unknown> {
  const [repository, tag] = DEFAULT_IMAGE.split(':');
  return {
    replicas: 1,
    image: { repository, tag, pullPolicy: 'IfNotPresent' },
    resources: DEFAULT_RESOURCES,
    featureGates: { ...DEFAULT_FEATURE_GATES },
    watchFilter: '',
    flags: {},
    certManager: { enabled: true },
    webhook: { caBundle: '' },
  };
}

export function chartValuesSchema(): Record<string, unknown> {
  const quantity = { type: ['string', 'number'] };
  const cpuMemory = { type: 'object', properties: { cpu: quantity, memory: quantity }, additionalProperties: false };
  return {
    $schema: 'https://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    properties: {
      replicas: { type: 'integer', minimum: 1 },
      image: {
        type: 'object',
        additionalProperties: false,
        required: ['repository', 'tag'],
        properties: {
          repository: { type: 'string', minLength: 1 },
          tag: { type: 'string', minLength: 1 },
          pullPolicy: { type: 'string', enum: ['Always', 'IfNotPresent', 'Never'] },
        },
      },
      resources: { type: 'object', additionalProperties: false, properties: { requests: cpuMemory, limits: cpuMemory } },
      featureGates: {
        type: 'object',
        additionalProperties: false,
        properties: { MachinePool: { type: 'boolean' } },
      },
      watchFilter: { type: 'string', pattern: '^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$', maxLength: 63 },
      flags: {
        type: 'object',
        description: 'Further operator flags, name (without --) to value, e.g. {"kube-api-qps": 50}.',
        additionalProperties: { type: ['string', 'number', 'boolean'] },
      },
      certManager: { type: 'object', additionalProperties: false, properties: { enabled: { type: 'boolean' } } },
      webhook: {
        type: 'object',
        additionalProperties: false,
        properties: { caBundle: { type: 'string', description: 'Base64 PEM CA of the webhook serving certificate when cert-manager is disabled.' } },
      },
    },
  };
}

const RELEASE_LABELS = {
  'app.kubernetes.io/instance': '{{ .Release.Name }}',
  'app.kubernetes.io/managed-by': '{{ .Release.Service }}',
  'helm.sh/chart': '{{ .Chart.Name }}-{{ .Chart.Version }}',
};

function helmSettings(p: Placeholders): DeploySettings {
  const namespace = p.inline('{{ .Release.Namespace }}');
  const certManagerOn = 'if .Values.certManager.enabled';
  const [injectKey, injectValue] = Object.entries(caInjectionAnnotation(namespace))[0]!;
  return {
    namespace,
    includeNamespace: false,
    labels: { ...PROVIDER_LABEL, ...RELEASE_LABELS },
    image: p.inline('"{{ .Values.image.repository }}:{{ .Values.image.tag }}"'),
    imagePullPolicy: p.inline('{{ .Values.image.pullPolicy }}'),
    replicas: p.inline('{{ .Values.replicas }}'),
    resources: p.block('toYaml .Values.resources'),
    args: {
      machinePool: p.inline('{{ .Values.featureGates.MachinePool }}'),
      metricsBindAddress: `:${PORTS.metrics}`,
      extra: [
        p.wrap('if .Values.watchFilter', '{{ printf "--watch-filter=%s" .Values.watchFilter | quote }}'),
        p.wrap('range $name, $value := .Values.flags', '{{ printf "--%s=%v" $name $value | quote }}'),
      ],
    },
    caInjectionAnnotations: { [injectKey]: p.wrap(certManagerOn, injectValue) },
    crdAnnotations: { 'helm.sh/resource-policy': 'keep' },
    caBundle: p.wrap('if not .Values.certManager.enabled', '{{ .Values.webhook.caBundle | quote }}'),
  };
}

const TEMPLATE_FILES: Record<Exclude<keyof ManifestParts, 'namespace'>, string> = {
  crds: 'crds.yaml',
  rbac: 'rbac.yaml',
  manager: 'manager.yaml',
  webhook: 'webhook.yaml',
  certManager: 'certmanager.yaml',
};

const HEADER = 'Generated by `npm run gen:deploy` from scripts/deploy; do not edit.';

/** templates/<file> → Go template text. */
export function chartTemplates(): Record<string, string> {
  const p = new Placeholders();
  const parts = manifestParts(helmSettings(p));
  const templates: Record<string, string> = {};
  for (const [part, file] of Object.entries(TEMPLATE_FILES) as [keyof typeof TEMPLATE_FILES, string][]) {
    let text = p.apply(renderObjects(parts[part], HEADER));
    // The CRDs live in templates/ (not crds/) so that upgrades update them; `keep` protects them on uninstall.
    if (part === 'certManager') text = `{{- if .Values.certManager.enabled }}\n${text}{{- end }}\n`;
    templates[file] = text;
  }
  return templates;
}

export function chartMetadata(version: string): Record<string, unknown> {
  return {
    apiVersion: 'v2',
    name: CHART_NAME,
    description: 'Cluster API bootstrap (and later control-plane) provider for Talos Linux, in one operator',
    type: 'application',
    version,
    appVersion: version,
    kubeVersion: '>=1.31.0-0',
  };
}
