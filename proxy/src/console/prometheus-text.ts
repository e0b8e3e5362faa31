// Reading a deployable's /metrics (Prometheus text format 0.0.4) into samples: enough of the format
// for what prom-client writes — `name{label="value",...} number`, comments and blank lines skipped,
// label values with their three escapes (\\, \", \n).

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const sample = parseLine(line);
    if (sample) out.push(sample);
  }
  return out;
}

function parseLine(line: string): Sample | undefined {
  const brace = line.indexOf('{');
  const space = line.indexOf(' ');
  if (space < 0) return undefined;
  const labels: Record<string, string> = {};
  let name: string;
  let rest: string;
  if (brace >= 0 && brace < space) {
    name = line.slice(0, brace);
    let i = brace + 1;
    while (i < line.length && line[i] !== '}') {
      const eq = line.indexOf('=', i);
      if (eq < 0 || line[eq + 1] !== '"') return undefined;
      const key = line.slice(i, eq).trim();
      let j = eq + 2;
      let value = '';
      while (j < line.length && line[j] !== '"') {
        if (line[j] === '\\' && j + 1 < line.length) {
          const next = line[j + 1];
          value += next === 'n' ? '\n' : next;
          j += 2;
        } else value += line[j++];
      }
      labels[key] = value;
      i = j + 1;
      if (line[i] === ',') i++;
    }
    rest = line.slice(i + 1).trim();
  } else {
    name = line.slice(0, space);
    rest = line.slice(space + 1).trim();
  }
  const value = Number(rest.split(/\s+/)[0]);
  if (!name || Number.isNaN(value)) return undefined;
  return { name, labels, value };
}
