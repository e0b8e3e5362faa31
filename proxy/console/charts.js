// Small inline SVG charts of each side's requests or errors per five-second bucket over the last
// two minutes. The old side is a solid line, the new side a dashed one (they differ without colour),
// and the chart says its totals in words for screen readers.
import { h, svg } from './dom.js';

const WIDTH = 120;
const HEIGHT = 30;

/** `field`: 'requests' or 'errors'. */
export function sideChart(points, field, label) {
  const old = points.map((p) => p.old[field]);
  const fresh = points.map((p) => p.new[field]);
  const top = Math.max(1, ...old, ...fresh);
  const line = (values) =>
    values.map((v, i) => `${((i / Math.max(1, values.length - 1)) * WIDTH).toFixed(1)},${(HEIGHT - 1 - (v / top) * (HEIGHT - 2)).toFixed(1)}`).join(' ');
  const sum = (values) => values.reduce((a, b) => a + b, 0);
  const words = `${label} over the last two minutes: old side ${sum(old)}, new side ${sum(fresh)}`;
  return h(
    'div',
    { class: 'chart' },
    svg(
      'svg',
      { width: WIDTH, height: HEIGHT, viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': words },
      svg('title', {}, words),
      svg('polyline', { class: 'old', points: line(old) }),
      svg('polyline', { class: 'new', points: line(fresh) }),
    ),
    h('span', { class: 'legend', 'aria-hidden': 'true' }, h('span', { class: 'old' }, `— old ${sum(old)}`), ' ', h('span', { class: 'new' }, `- - new ${sum(fresh)}`)),
  );
}

/** A bar: the share of users on the new side. */
export function weightBar(weight) {
  return svg(
    'svg',
    { class: 'weight-bar', width: 100, height: 8, viewBox: '0 0 100 8', 'aria-hidden': 'true' },
    svg('rect', { class: 'old', x: 0, y: 0, width: 100, height: 8 }),
    svg('rect', { class: 'new', x: 0, y: 0, width: weight, height: 8 }),
  );
}
