// The kernel bench's stand-in for an OpenTelemetry collector: accepts OTLP/HTTP (protobuf) trace
// exports and counts their bytes and spans. It runs as a process of its own, as a collector would:
// inside the bench process it answered from the event loop that also drives autocannon, so under
// load an export could wait on the load generator while the SDK's queue (2,048 spans) filled, and
// the SDK drops what does not fit without a word: the traced server would then do less work than
// "every request recorded". Nothing counted, so no figure could show it did not happen (two full
// runs measured tracing on as cheaper than off). The bench now counts the spans that arrive
// against the lookups sent to the traced server and refuses a figure that lost any.
//
// As a child: `node scripts/bench/trace-sink.ts` with an IPC channel; it sends `{ port }` once
// listening and answers `'count'` with `{ bytes, spans }`.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Calls `each(field, bytes)` for every length-delimited field of one protobuf message. */
function lengthDelimited(buf: Buffer, each: (field: number, bytes: Buffer) => void): void {
  let i = 0;
  const varint = (): number => {
    let value = 0;
    for (let scale = 1; ; scale *= 128) {
      if (i >= buf.length) throw new Error('truncated protobuf varint');
      const b = buf[i++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
    }
  };
  while (i < buf.length) {
    const tag = varint();
    const wireType = tag & 7;
    if (wireType === 0) varint();
    else if (wireType === 1 || wireType === 5) {
      i += wireType === 1 ? 8 : 4;
      if (i > buf.length) throw new Error('truncated protobuf fixed-width field');
    } else if (wireType === 2) {
      const n = varint();
      if (i + n > buf.length) throw new Error('truncated protobuf field');
      each(Math.floor(tag / 8), buf.subarray(i, i + n));
      i += n;
    } else throw new Error(`protobuf wire type ${wireType} is not one OTLP uses`);
  }
}

/**
 * The spans in one ExportTraceServiceRequest: resource_spans (1) → scope_spans (2) → spans (2),
 * the field numbers of opentelemetry-proto's trace/v1 messages.
 */
export function countSpans(exportRequest: Buffer): number {
  let spans = 0;
  lengthDelimited(exportRequest, (f1, resourceSpans) => {
    if (f1 !== 1) return;
    lengthDelimited(resourceSpans, (f2, scopeSpans) => {
      if (f2 !== 2) return;
      lengthDelimited(scopeSpans, (f3) => {
        if (f3 === 2) spans++;
      });
    });
  });
  return spans;
}

if (import.meta.main && process.send) {
  let bytes = 0;
  let spans = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      bytes += body.length;
      try {
        spans += countSpans(body);
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      } catch (err) {
        res.writeHead(400).end((err as Error).message);
      }
    });
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
  process.on('message', (msg) => {
    if (msg === 'count') process.send!({ bytes, spans });
  });
  process.on('disconnect', () => process.exit(0));
}
