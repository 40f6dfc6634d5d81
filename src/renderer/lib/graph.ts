/**
 * The graph view's layout: the expanded DAG of a report (one node per op) or the layers the user
 * placed (blocks collapsed), laid out top-down by ELK's layered algorithm.
 */
import ELK, { type ElkExtendedEdge, type ElkNode } from 'elkjs/lib/elk.bundled.js';
import type { Report } from '../../shared/report.ts';

export interface GraphNode {
  id: string;
  /** The placed layer this node belongs to (itself when collapsed). */
  layer: string;
  title: string;
  subtitle: string;
  op: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface GraphEdge {
  id: string;
  from: string;
  to: string;
  points: { x: number; y: number }[];
}

export interface GraphLayout {
  nodes: GraphNode[];
  edges: GraphEdge[];
  width: number;
  height: number;
}

const INPUT = 'input';
const NODE_HEIGHT = 42;
const CHAR_WIDTH = 6.6;

interface Item {
  id: string;
  layer: string;
  title: string;
  subtitle: string;
  op: string;
  inputs: string[];
}

/** Nodes and edges before layout: ops (expanded) or placed layers (collapsed). */
export function graphItems(report: Report, collapsed: boolean): Item[] {
  const input: Item = { id: INPUT, layer: INPUT, title: 'input', subtitle: report.model.input_shape.join('×'), op: 'input', inputs: [] };
  if (!collapsed) {
    return [
      input,
      ...report.layers.map((r) => ({ id: r.id, layer: r.layer, title: r.op, subtitle: `${r.id} · ${r.output_shape.join('×')}`, op: r.op, inputs: r.inputs ?? [] })),
    ];
  }
  const layerOf = new Map(report.layers.map((r) => [r.id, r.layer]));
  const items = new Map<string, Item>();
  for (const r of report.layers) {
    let item = items.get(r.layer);
    if (!item) {
      item = { id: r.layer, layer: r.layer, title: r.block ?? r.op, subtitle: '', op: r.block ?? r.op, inputs: [] };
      items.set(r.layer, item);
    }
    item.subtitle = `${r.layer} · ${r.output_shape.join('×')}`;
    for (const ref of r.inputs ?? []) {
      const from = ref === INPUT ? INPUT : layerOf.get(ref);
      if (from && from !== r.layer && !item.inputs.includes(from)) item.inputs.push(from);
    }
  }
  return [input, ...items.values()];
}

let elk: InstanceType<typeof ELK> | null = null;

export async function layoutGraph(report: Report, collapsed: boolean): Promise<GraphLayout> {
  const items = graphItems(report, collapsed);
  const size = new Map(items.map((it) => [it.id, { width: Math.max(110, Math.ceil(Math.max(it.title.length, it.subtitle.length) * CHAR_WIDTH) + 28), height: NODE_HEIGHT }]));
  const ids = new Set(items.map((it) => it.id));
  const edges = items.flatMap((it) => it.inputs.filter((src) => ids.has(src)).map((src, i) => ({ id: `${src}->${it.id}#${i}`, sources: [src], targets: [it.id] })));
  elk ??= new ELK();
  const graph: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '26',
      'elk.spacing.nodeNode': '22',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.padding': '[top=16,left=16,bottom=16,right=16]',
    },
    children: items.map((it) => ({ id: it.id, ...size.get(it.id)! })),
    edges,
  };
  const result = await elk.layout(graph);
  const byId = new Map(items.map((it) => [it.id, it]));
  const nodes: GraphNode[] = (result.children ?? []).map((n) => {
    const it = byId.get(n.id)!;
    return { id: n.id, layer: it.layer, title: it.title, subtitle: it.subtitle, op: it.op, x: n.x ?? 0, y: n.y ?? 0, width: n.width ?? 0, height: n.height ?? 0 };
  });
  const laidEdges: GraphEdge[] = ((result.edges ?? []) as ElkExtendedEdge[]).map((e) => {
    const section = e.sections?.[0];
    const points = section ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint] : [];
    return { id: e.id, from: e.sources[0], to: e.targets[0], points };
  });
  return { nodes, edges: laidEdges, width: result.width ?? 0, height: result.height ?? 0 };
}
