// Reads what `node --cpu-prof` and `--heapsnapshot-signal` leave behind and names the top items:
// functions by self time (what the CPU was doing), and object groups by retained size (what
// keeps memory alive: the dominator tree of the snapshot, as a heap profiler's "retained size").

/** The parts of a .cpuprofile (V8's Profile) this reads. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export interface TopItem {
  name: string;
  /** Milliseconds (CPU) or bytes (heap). */
  amount: number;
  share: number;
}

const shortUrl = (url: string) => url.replace(/^file:\/\/.*?\/(node_modules|dist|src)\//, '$1/').replace(/^node:/, 'node:');

/** Functions by self time, summed over every node of the same function. */
export function cpuTopSelf(profile: CpuProfile, count: number): TopItem[] {
  const byNode = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // Each sample's time is the delta to the next one (the last gets none).
  for (let i = 0; i < samples.length; i++) byNode.set(samples[i]!, (byNode.get(samples[i]!) ?? 0) + (deltas[i + 1] ?? 0));
  const byFunction = new Map<string, number>();
  for (const node of profile.nodes) {
    const micros = byNode.get(node.id) ?? 0;
    if (micros === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = url ? `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}` : functionName || '(anonymous)';
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
  }
  const total = [...byFunction.values()].reduce((a, b) => a + b, 0);
  return top(byFunction, count, total).map((item) => ({ ...item, amount: item.amount / 1000 }));
}

/** The parts of a .heapsnapshot this reads. */
export interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

interface Graph {
  count: number;
  selfSize: Float64Array;
  label: string[];
  /** Children of node i: edgeTargets[firstEdge[i] .. firstEdge[i + 1]), weak edges left out. */
  firstEdge: Uint32Array;
  edgeTargets: Uint32Array;
}

function graphOf(heap: HeapSnapshot): Graph {
  const meta = heap.snapshot.meta;
  const nodeWidth = meta.node_fields.length;
  const edgeWidth = meta.edge_fields.length;
  const [typeAt, nameAt, sizeAt, edgeCountAt] = ['type', 'name', 'self_size', 'edge_count'].map((f) => meta.node_fields.indexOf(f)) as [number, number, number, number];
  const [edgeTypeAt, toAt] = ['type', 'to_node'].map((f) => meta.edge_fields.indexOf(f)) as [number, number];
  const nodeTypes = meta.node_types[0];
  const weak = meta.edge_types[0].indexOf('weak');
  const count = heap.nodes.length / nodeWidth;
  const selfSize = new Float64Array(count);
  const label: string[] = new Array<string>(count);
  const firstEdge = new Uint32Array(count + 1);
  const targets: number[] = [];
  let edge = 0;
  for (let i = 0; i < count; i++) {
    const base = i * nodeWidth;
    selfSize[i] = heap.nodes[base + sizeAt]!;
    const type = nodeTypes[heap.nodes[base + typeAt]!]!;
    // Objects are grouped by constructor; strings, code, arrays and the like by their type.
    label[i] = type === 'object' || type === 'native' ? heap.strings[heap.nodes[base + nameAt]!]! : `(${type})`;
    firstEdge[i] = targets.length;
    for (let e = 0; e < heap.nodes[base + edgeCountAt]!; e++, edge += edgeWidth) {
      if (heap.edges[edge + edgeTypeAt] === weak) continue;
      targets.push(heap.edges[edge + toAt]! / nodeWidth);
    }
  }
  firstEdge[count] = targets.length;
  return { count, selfSize, label, firstEdge, edgeTargets: Uint32Array.from(targets) };
}

/** Immediate dominators from node 0 (the root), by Cooper, Harvey and Kennedy's iteration. */
function dominators(graph: Graph): Int32Array {
  const { count, firstEdge, edgeTargets } = graph;
  const order = new Int32Array(count).fill(-1);
  const postorder: number[] = [];
  const stack: Array<[number, number]> = [[0, firstEdge[0]!]];
  order[0] = -2;
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top[1] < firstEdge[top[0] + 1]!) {
      const next = edgeTargets[top[1]++]!;
      if (order[next] === -1) {
        order[next] = -2;
        stack.push([next, firstEdge[next]!]);
      }
    } else {
      order[top[0]] = postorder.length;
      postorder.push(top[0]);
      stack.pop();
    }
  }
  const predecessors: number[][] = Array.from({ length: count }, () => []);
  for (let i = 0; i < count; i++) {
    if (order[i]! < 0) continue;
    for (let e = firstEdge[i]!; e < firstEdge[i + 1]!; e++) predecessors[edgeTargets[e]!]!.push(i);
  }
  const idom = new Int32Array(count).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (order[a]! < order[b]!) a = idom[a]!;
      while (order[b]! < order[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let p = postorder.length - 2; p >= 0; p--) {
      const node = postorder[p]!;
      let dom = -1;
      for (const pred of predecessors[node]!) {
        if (idom[pred] === -1) continue;
        dom = dom === -1 ? pred : intersect(pred, dom);
      }
      if (dom !== -1 && idom[node] !== dom) {
        idom[node] = dom;
        changed = true;
      }
    }
  }
  return idom;
}

/**
 * Object groups by retained size: each object's retained size (itself and all it alone keeps
 * alive) summed per group, counting only the topmost object of a group on any dominator chain.
 */
export function heapTopRetained(heap: HeapSnapshot, count: number): TopItem[] {
  const graph = graphOf(heap);
  const idom = dominators(graph);
  const retained = Float64Array.from(graph.selfSize);
  // Children before their dominators: a node's dominator is always nearer the root.
  const depth = new Int32Array(graph.count).fill(-1);
  const depthOf = (node: number): number => {
    const chain: number[] = [];
    let at = node;
    while (depth[at] === -1 && idom[at] !== -1 && at !== 0) {
      chain.push(at);
      at = idom[at]!;
    }
    let d = at === 0 ? 0 : depth[at]!;
    for (let i = chain.length - 1; i >= 0; i--) depth[chain[i]!] = ++d;
    return depth[node]!;
  };
  const reachable = Array.from({ length: graph.count }, (_, i) => i).filter((i) => i === 0 || idom[i] !== -1);
  reachable.sort((a, b) => depthOf(b) - depthOf(a));
  for (const node of reachable) if (node !== 0) retained[idom[node]!]! += retained[node]!;
  const byGroup = new Map<string, number>();
  for (const node of reachable) {
    // The synthetic roots (GC roots, handles) dominate everything; they are not what is kept.
    if (node === 0 || graph.label[node] === '(synthetic)') continue;
    let outer = idom[node]!;
    while (outer !== 0 && graph.label[outer] !== graph.label[node]) outer = idom[outer]!;
    if (outer !== 0) continue;
    byGroup.set(graph.label[node]!, (byGroup.get(graph.label[node]!) ?? 0) + retained[node]!);
  }
  return top(byGroup, count, retained[0]!);
}

function top(amounts: Map<string, number>, count: number, total: number): TopItem[] {
  return [...amounts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, amount]) => ({ name, amount, share: total > 0 ? amount / total : 0 }));
}
