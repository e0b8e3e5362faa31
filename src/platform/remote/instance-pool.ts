// Where one remote module's calls go: its instances in turn, over pooled keep-alive
// connections, skipping for a while an instance that refuses connections (passive health
// checking). A refused connection never reached the service, so moving to the next instance is
// safe even for an operation that is not idempotent.
import http from 'node:http';
import https from 'node:https';

export interface RawReply {
  status: number;
  contentType: string;
  body: string;
}

/** The request never produced an answer: refused everywhere, reset, timed out, unreadable. */
export class TransportFailure extends Error {
  override name = 'TransportFailure';
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

const refusedCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export interface InstancePool {
  /** `idempotent` allows one immediate retry when a reused keep-alive socket turns out to be closed. */
  post(path: string, body: string, headers: Record<string, string>, signal: AbortSignal, idempotent?: boolean): Promise<RawReply>;
  readonly instances: readonly string[];
  close(): void;
}

export function instancePool(o: {
  module: string;
  instances: readonly string[];
  maxSockets: number;
  downForMs?: number;
  now?: () => number;
  /** What to set when no address is known (the module's own variable, or MONOLITH_URLS when the monolith hosts it). */
  addressHint?: string;
}): InstancePool {
  const now = o.now ?? (() => Date.now());
  const downForMs = o.downForMs ?? 1_000;
  // Free sockets close before the server's 5 s keep-alive timeout, so a reused socket is rarely stale.
  const agentOptions = { keepAlive: true, maxSockets: o.maxSockets, maxFreeSockets: o.maxSockets, timeout: 4_000 };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  const downUntil = new Map<string, number>();
  let next = 0;

  const single = o.instances.length === 1 ? [...o.instances] : undefined;
  // Each instance's address parsed once, not a URL built per call.
  const targets = new Map(
    o.instances.map((base) => {
      const url = new URL(`${base}/`);
      // As node:http wants it: an IPv6 literal without its brackets, no port for the scheme's default.
      const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      return [base, { protocol: url.protocol, hostname, port: url.port || undefined }];
    }),
  );

  function order(): readonly string[] {
    // One instance: it is tried whether or not it was marked down, as below.
    if (single) return single;
    const n = o.instances.length;
    const start = next++ % Math.max(n, 1);
    const rotated = [...o.instances.slice(start), ...o.instances.slice(0, start)];
    const t = now();
    // Healthy first, then the ones marked down (they may be back): never zero candidates.
    return [...rotated.filter((i) => (downUntil.get(i) ?? 0) <= t), ...rotated.filter((i) => (downUntil.get(i) ?? 0) > t)];
  }

  function once(base: string, path: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<RawReply> {
    const target = targets.get(base)!;
    const secure = target.protocol === 'https:';
    return new Promise<RawReply>((resolve, reject) => {
      const req = (secure ? https : http).request(
        {
          ...target,
          // An absolute path, as before: it replaces any path in the instance's address.
          path,
          method: 'POST',
          agent: secure ? httpsAgent : httpAgent,
          headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A keep-alive socket the server closed just as we wrote to it: nothing was processed.
        if ((err.code === 'ECONNRESET' || err.code === 'EPIPE') && req.reusedSocket) (err as NodeJS.ErrnoException & { staleSocket?: boolean }).staleSocket = true;
        reject(err);
      });
      req.end(body);
    });
  }

  return {
    instances: o.instances,
    async post(path, body, headers, signal, idempotent = false) {
      if (o.instances.length === 0) {
        const hint = o.addressHint ?? `MODULE_${o.module.toUpperCase().replace(/-/g, '_')}_URLS`;
        throw new TransportFailure('no-address', `No address is known for ${o.module}; set it in the topology or ${hint}`);
      }
      let lastRefusal: Error | undefined;
      for (const base of order()) {
        for (let stale = 0; stale < 2; stale++) {
          try {
            const reply = await once(base, path, body, headers, signal);
            downUntil.delete(base);
            return reply;
          } catch (err) {
            const e = err as NodeJS.ErrnoException & { staleSocket?: boolean };
            if (signal.aborted) throw new TransportFailure('timeout', `${o.module} did not answer in time`);
            // A reset on a reused socket is usually the server closing it while idle, but it may also
            // be a server that died after doing the work: only an idempotent call may go again.
            if (e.staleSocket && stale === 0 && idempotent) continue;
            if (e.code && refusedCodes.has(e.code)) {
              downUntil.set(base, now() + downForMs);
              lastRefusal = e;
              break;
            }
            throw new TransportFailure(e.code ?? 'network', `${o.module} at ${base} failed: ${e.message}`);
          }
        }
      }
      throw new TransportFailure('refused', `No instance of ${o.module} accepts connections (${o.instances.join(', ')}): ${lastRefusal?.message ?? ''}`);
    },
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
