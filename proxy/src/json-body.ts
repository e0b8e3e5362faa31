// Reading a small JSON body (the admin API's) from a client that may send anything: too large,
// nested thousands deep, not JSON. Each is refused with a problem the caller can answer, and the
// nesting is measured on the text before anything recursive (JSON.parse, a schema) walks it.

export class BodyRefused extends Error {
  override name = 'BodyRefused';
  readonly status: 400 | 413;
  readonly code: string;
  constructor(status: 400 | 413, code: string, detail: string) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}

export interface JsonBodyLimits {
  maxBytes: number;
  maxDepth: number;
}

export async function readJsonBody(req: AsyncIterable<Buffer>, limits: JsonBodyLimits): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limits.maxBytes) throw new BodyRefused(413, 'BodyTooLarge', `the body exceeds the limit of ${limits.maxBytes} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return {};
  const text = Buffer.concat(chunks).toString('utf8');
  if (nestingDepth(text) > limits.maxDepth) throw new BodyRefused(400, 'BodyTooDeep', `the body nests deeper than ${limits.maxDepth} levels`);
  try {
    return JSON.parse(text);
  } catch {
    throw new BodyRefused(400, 'MalformedJson', 'the body is not valid JSON');
  }
}

/** The deepest nesting of objects and arrays in JSON text (brackets inside strings do not count). */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > deepest) deepest = depth;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return deepest;
}
