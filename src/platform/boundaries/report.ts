// What a developer reads when the boundary check fails: for each violation the rule, the importing
// file, the imported file, the rule in plain words and what to do instead.
import type { Finding } from './module-rules.ts';

export function formatFinding(f: Finding, comment: string | undefined): string {
  const lines = [`✖ ${f.rule.name}`];
  if (f.type === 'module') lines.push(`    module:   ${f.from}`);
  else {
    lines.push(`    importing: ${f.from}`);
    lines.push(`    imported:  ${f.to}`);
  }
  if (f.type === 'cycle' && !f.detail && f.cycle?.length) {
    lines.push(`    cycle:     ${[f.from, ...f.cycle.map((c) => c.name)].join(' → ')}`);
  }
  if (f.detail) lines.push(`    ${f.detail}`);
  if (comment) lines.push(...wrap(comment, 96).map((l) => `    ${l}`));
  return lines.join('\n');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
