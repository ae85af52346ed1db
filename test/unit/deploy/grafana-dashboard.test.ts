// The Grafana dashboard in deploy/ asks only for series the operator really exports: every PromQL
// query's metric names are looked up in the registry the operator serves (runtime, process and
// provider metrics, registered as src/operator.ts registers them).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RuntimeMetrics } from '../../../src/kube/http/metrics';
import { registerProviderMetrics } from '../../../src/metrics/provider-metrics';
import { DEPLOY_DIR } from './deploy-files';

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
}

interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; type: string; definition?: string }[] };
}

const dashboard = JSON.parse(readFileSync(join(DEPLOY_DIR, 'grafana', 'talos-capi-dashboard.json'), 'utf8')) as Dashboard;

/** Words of PromQL that are not metric names (aggregations, functions, clause keywords). */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects: identifiers left once strings, label matchers,
 * range selectors and `by (…)`/`without (…)` label lists are gone, that are no function call or keyword.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = [...bare.matchAll(/(?<![\w:.$])([A-Za-z_:][\w:]*)(?![\w:]|\s*\()/g)].map((m) => m[1]!);
  return [...new Set(names.filter((name) => !KEYWORDS.has(name.toLowerCase())))];
}

/** Metric names with their types, from a registry set up as the operator's. */
async function exportedMetrics(): Promise<Map<string, string>> {
  const metrics = new RuntimeMetrics({ defaultMetrics: true });
  registerProviderMetrics(metrics.registry);
  return new Map((await metrics.registry.getMetricsAsJSON()).map((metric) => [metric.name, String(metric.type)]));
}

/** A histogram's or summary's series carry a suffix; the registry knows the base name. */
function exportedName(name: string, exported: Map<string, string>): string | undefined {
  if (exported.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return ['histogram', 'summary'].includes(exported.get(base) ?? '') ? base : undefined;
}

const queries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));

describe('Grafana dashboard', () => {
  it('finds metric names in PromQL and nothing else', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (controller, le) (rate(a_bucket{job=~"$job", x="by(y)"}[$__rate_interval])))')).toEqual(['a_bucket']);
    expect(metricNames('sum(rate(a_sum[5m])) / sum without (pod) (rate(a_count{code!="OK"}[5m])) > 0 and on (job) up')).toEqual(['a_sum', 'a_count', 'up']);
    expect(metricNames('max(process_resident_memory_bytes) by (pod)')).toEqual(['process_resident_memory_bytes']);
  });

  it('every query asks for metrics the operator exports', async () => {
    const exported = await exportedMetrics();
    const variableQueries = dashboard.templating.list.filter((v) => v.type === 'query').map((v) => ({ panel: `variable ${v.name}`, expr: v.definition ?? '' }));
    const unknown: string[] = [];
    const used = new Set<string>();
    for (const { panel, expr } of [...queries, ...variableQueries]) {
      const names = metricNames(expr.replace(/^label_values\((\w+),.*\)$/, '$1'));
      expect({ panel, names: names.length > 0 }).toEqual({ panel, names: true });
      for (const name of names) {
        const found = exportedName(name, exported);
        if (found) used.add(found);
        else unknown.push(`${panel}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
    process.stderr.write(`[figures] dashboard: ${queries.length} queries over ${used.size} of ${exported.size} exported metrics\n`);
  });

  it('shows reconciles, errors, latency, queue depth, every provider counter, memory and CPU', () => {
    const used = new Set(queries.flatMap((query) => metricNames(query.expr)));
    expect([...used]).toEqual(expect.arrayContaining([
      'controller_runtime_reconcile_total', 'controller_runtime_reconcile_errors_total', 'controller_runtime_reconcile_time_seconds_bucket',
      'workqueue_depth', 'talos_capi_talos_api_calls_total', 'talos_capi_etcd_operations_total', 'talos_capi_controlplane_rollout_steps_total',
      'talos_capi_configs_rendered_total', 'talos_capi_secrets_bundles_created_total', 'process_resident_memory_bytes', 'process_cpu_seconds_total',
    ]));
  });
});
