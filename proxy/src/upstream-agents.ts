// Keep-alive connection pools to upstreams. Forwarded requests go through undici's pools (one
// per origin, created on first use), which honour an upstream's Keep-Alive timeout hint so a socket
// the upstream is about to close is not reused (the classic "socket hang up" on a POST). Health
// probes and shadow copies use Node's agents: off the hot path, and plain http.request suits them.
import http from 'node:http';
import https from 'node:https';
import { Agent, buildConnector } from 'undici';

export class UpstreamAgents {
  private connectTimeoutMs: number;
  private connector: buildConnector.connector;
  // The connector is looked up per new connection, so a reloaded connectTimeoutMs applies to the
  // next connection without rebuilding the pools (and dropping their idle keep-alive sockets).
  readonly dispatcher = new Agent({ connections: null, pipelining: 1, connect: (options, callback) => this.connector(options, callback) });
  readonly http = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024, scheduling: 'lifo' });
  readonly https = new https.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024, scheduling: 'lifo' });

  /** `connectTimeoutMs`: the config's, for new connections to upstreams. */
  constructor(connectTimeoutMs: number) {
    this.connectTimeoutMs = connectTimeoutMs;
    this.connector = buildConnector({ timeout: connectTimeoutMs });
  }

  /** Sets the timeout for new connections to upstreams (the config's connectTimeoutMs). */
  setConnectTimeout(ms: number): void {
    if (ms === this.connectTimeoutMs) return;
    this.connectTimeoutMs = ms;
    this.connector = buildConnector({ timeout: ms });
  }

  for(url: URL): http.Agent {
    return url.protocol === 'https:' ? this.https : this.http;
  }

  /** http.request or https.request, with the right pool, for probes and shadow copies. */
  request(url: URL, options: http.RequestOptions, onResponse: (res: http.IncomingMessage) => void): http.ClientRequest {
    const agent = this.for(url);
    return url.protocol === 'https:' ? https.request(url, { ...options, agent }, onResponse) : http.request(url, { ...options, agent }, onResponse);
  }

  destroy(): void {
    void this.dispatcher.destroy();
    this.http.destroy();
    this.https.destroy();
  }
}
