// The few pieces of Grafana's dashboard JSON model the dashboards here use: a dashboard of rows,
// each row a strip of panels laid out left to right, every query on a Prometheus data source
// picked by the `datasource` variable. Writing the dashboards as code keeps the four of them
// consistent (same layout, same units, same state colours) and lets the tests read every query.

export interface Query {
  expr: string;
  /** Legend, with Grafana's `{{label}}` placeholders. */
  legend?: string;
}

export type PanelKind = 'timeseries' | 'stat' | 'state-timeline';

export interface PanelSpec {
  title: string;
  description: string;
  queries: Query[];
  kind?: PanelKind;
  /** Grafana unit id: `s`, `bytes`, `reqps`, `percentunit`, `percent`, `short`. */
  unit?: string;
  /** Columns out of 24 (default 8). */
  width?: number;
  /** Names for state values (a circuit's 0 closed, 1 open...). */
  states?: Record<number, { text: string; color: string }>;
  /** Values from which the panel turns orange, then red. */
  thresholds?: [number, number];
  /** A higher value is better (a match rate): the colours run the other way. */
  higherIsBetter?: boolean;
  min?: number;
  max?: number;
}

export interface RowSpec {
  title: string;
  panels: PanelSpec[];
  /** Repeat the row once per value of this variable (a migration dashboard: one row per route). */
  repeat?: string;
}

export interface Variable {
  name: string;
  label: string;
  /** A `label_values(...)` query. */
  query: string;
  multi?: boolean;
  includeAll?: boolean;
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  variables: Variable[];
  rows: RowSpec[];
}

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const PANEL_HEIGHT = 8;

export function dashboard(spec: DashboardSpec): Record<string, unknown> {
  let id = 0;
  let y = 0;
  const panels: Record<string, unknown>[] = [];
  for (const row of spec.rows) {
    panels.push({
      id: ++id,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: [],
      ...(row.repeat ? { repeat: row.repeat } : {}),
    });
    y += 1;
    let x = 0;
    for (const p of row.panels) {
      const w = p.width ?? 8;
      if (x + w > 24) {
        x = 0;
        y += PANEL_HEIGHT;
      }
      panels.push(panel(++id, p, { h: PANEL_HEIGHT, w, x, y }));
      x += w;
    }
    y += PANEL_HEIGHT;
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: spec.tags,
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    timezone: 'browser',
    time: { from: 'now-3h', to: 'now' },
    refresh: '30s',
    annotations: { list: [] },
    templating: { list: [datasourceVariable(), ...spec.variables.map(queryVariable)] },
    panels,
  };
}

function panel(id: number, p: PanelSpec, gridPos: Record<string, number>): Record<string, unknown> {
  const kind = p.kind ?? 'timeseries';
  const steps = p.thresholds
    ? p.higherIsBetter
      ? [
          { color: 'red', value: null },
          { color: 'orange', value: p.thresholds[0] },
          { color: 'green', value: p.thresholds[1] },
        ]
      : [
          { color: 'green', value: null },
          { color: 'orange', value: p.thresholds[0] },
          { color: 'red', value: p.thresholds[1] },
        ]
    : [{ color: 'green', value: null }];
  const mappings = p.states
    ? [{ type: 'value', options: Object.fromEntries(Object.entries(p.states).map(([v, s], index) => [v, { ...s, index }])) }]
    : [];
  const options: Record<string, unknown> =
    kind === 'stat'
      ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'area', textMode: 'auto', orientation: 'auto' }
      : kind === 'state-timeline'
        ? { showValue: 'auto', mergeValues: true, rowHeight: 0.9, legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'single' } }
        : { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } };
  return {
    id,
    type: kind,
    title: p.title,
    description: p.description,
    datasource: DATASOURCE,
    gridPos,
    targets: p.queries.map((q, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DATASOURCE,
      expr: q.expr,
      legendFormat: q.legend ?? '__auto',
      range: true,
    })),
    fieldConfig: {
      defaults: {
        unit: p.unit ?? 'short',
        ...(p.min !== undefined ? { min: p.min } : {}),
        ...(p.max !== undefined ? { max: p.max } : {}),
        mappings,
        thresholds: { mode: 'absolute', steps },
        color: { mode: p.states || p.thresholds ? 'thresholds' : 'palette-classic' },
        ...(kind === 'timeseries' ? { custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never', spanNulls: false } } : {}),
      },
      overrides: [],
    },
    options,
  };
}

function datasourceVariable(): Record<string, unknown> {
  return { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0, refresh: 1, options: [], regex: '' };
}

function queryVariable(v: Variable): Record<string, unknown> {
  return {
    name: v.name,
    label: v.label,
    type: 'query',
    datasource: DATASOURCE,
    definition: v.query,
    query: { query: v.query, refId: `${v.name}-values` },
    refresh: 2,
    sort: 1,
    multi: v.multi ?? false,
    includeAll: v.includeAll ?? false,
    current: {},
    options: [],
    hide: 0,
    regex: '',
  };
}

/** Every PromQL expression of a built dashboard, with the panel it sits in. */
export function dashboardQueries(d: Record<string, unknown>): { panel: string; expr: string }[] {
  const panels = (d.panels as { title: string; targets?: { expr: string }[] }[]) ?? [];
  return panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
}
