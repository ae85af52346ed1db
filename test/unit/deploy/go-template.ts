// A tiny evaluator for the Go template subset our generated Helm templates use (no helm binary
// is available to the tests): {{ .Values.a.b }}, .Release.*, .Chart.*, `if`/`if not`, `range
// $k, $v := …` over a map (sorted keys, as Go does), `end`, printf with %s/%v, quote, toYaml and
// nindent, and the {{- / -}} whitespace trimming. Anything else throws, so a template using more
// than this subset fails the test instead of being half-rendered.
import { stringify } from 'yaml';

export interface TemplateContext {
  Values: Record<string, unknown>;
  Release: { Name: string; Namespace: string; Service: string };
  Chart: { Name: string; Version: string };
}

type Node = { text: string } | { action: string };

function tokenize(template: string): Node[] {
  const nodes: Node[] = [];
  const pattern = /\{\{(-?)\s*([\s\S]*?)\s*(-?)\}\}/g;
  let last = 0;
  let trimNext = false;
  for (let match = pattern.exec(template); match; match = pattern.exec(template)) {
    let text = template.slice(last, match.index);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (match[1]) text = text.replace(/\s+$/, '');
    nodes.push({ text }, { action: match[2]! });
    trimNext = match[3] === '-';
    last = pattern.lastIndex;
  }
  const rest = template.slice(last);
  nodes.push({ text: trimNext ? rest.replace(/^\s+/, '') : rest });
  return nodes;
}

function splitArgs(text: string): string[] {
  return [...text.matchAll(/"(?:[^"\\]|\\.)*"|\S+/g)].map((m) => m[0]);
}

function lookup(path: string, scope: TemplateContext, vars: Record<string, unknown>): unknown {
  if (path.startsWith('"')) return JSON.parse(path) as string;
  if (/^-?\d+$/.test(path)) return Number(path);
  if (path.startsWith('$')) {
    if (!(path in vars)) throw new Error(`unknown variable ${path}`);
    return vars[path];
  }
  if (!path.startsWith('.')) throw new Error(`unsupported term "${path}"`);
  let value: unknown = scope;
  for (const key of path.slice(1).split('.')) {
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

const format = (value: unknown): string => (value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value));

function evaluate(pipeline: string, scope: TemplateContext, vars: Record<string, unknown>): unknown {
  let value: unknown;
  pipeline.split('|').map((stage) => splitArgs(stage.trim())).forEach(([fn, ...args], index) => {
    const values = args.map((arg) => lookup(arg, scope, vars));
    if (index === 0 && fn !== 'printf' && fn !== 'toYaml' && fn !== 'not') {
      value = lookup(fn!, scope, vars);
      return;
    }
    const input = index === 0 ? [] : [value];
    switch (fn) {
      case 'printf': {
        const [template, ...rest] = [...values, ...input];
        let i = 0;
        value = String(template).replace(/%[sv]/g, () => format(rest[i++]));
        break;
      }
      case 'quote': value = JSON.stringify(format([...values, ...input][0])); break;
      case 'toYaml': value = stringify([...values, ...input][0]).trimEnd(); break;
      case 'nindent': value = `\n${String(input[0]).split('\n').map((line) => ' '.repeat(Number(values[0])) + line).join('\n')}`; break;
      case 'not': value = !truthy([...values, ...input][0]); break;
      default: throw new Error(`unsupported function "${fn}"`);
    }
  });
  return value;
}

function truthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/** Renders `template`; throws on constructs outside the subset above. */
export function renderGoTemplate(template: string, scope: TemplateContext): string {
  const nodes = tokenize(template);
  let position = 0;
  const block = (vars: Record<string, unknown>, emit: boolean, nested = true): string => {
    let out = '';
    while (position < nodes.length) {
      const node = nodes[position++]!;
      if ('text' in node) {
        if (emit) out += node.text;
        continue;
      }
      const action = node.action;
      if (action === 'end') return out;
      const range = /^range \$(\w+), \$(\w+) := (\S+)$/.exec(action);
      if (range) {
        const map = emit ? lookup(range[3]!, scope, vars) : {};
        const start = position;
        const entries = map && typeof map === 'object' ? Object.entries(map).sort(([a], [b]) => a.localeCompare(b)) : [];
        if (!entries.length) block(vars, false);
        for (const [key, value] of entries) {
          position = start;
          out += block({ ...vars, [`$${range[1]}`]: key, [`$${range[2]}`]: value }, emit);
        }
        continue;
      }
      if (action.startsWith('if ')) {
        out += block(vars, emit && truthy(evaluate(action.slice(3), scope, vars)));
        continue;
      }
      if (emit) out += format(evaluate(action, scope, vars));
    }
    if (nested) throw new Error('missing {{ end }}');
    return out;
  };
  const out = block({}, true, false);
  if (position < nodes.length) throw new Error('unbalanced {{ end }}');
  return out;
}
