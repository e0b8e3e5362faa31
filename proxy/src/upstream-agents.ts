// Keep-alive connection pools to upstreams (Q13), one per protocol. LIFO reuses the warmest sockets
// and lets idle ones expire; Node's agent also honours an upstream's Keep-Alive timeout hint, so a
// socket the upstream is about to close is not reused (the classic "socket hang up" on a POST).
import http from 'node:http';
import https from 'node:https';

export class UpstreamAgents {
  readonly http = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024, scheduling: 'lifo' });
  readonly https = new https.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024, scheduling: 'lifo' });

  for(url: URL): http.Agent {
    return url.protocol === 'https:' ? this.https : this.http;
  }

  /** http.request or https.request, with the right pool, for probes and shadow copies. */
  request(url: URL, options: http.RequestOptions, onResponse: (res: http.IncomingMessage) => void): http.ClientRequest {
    const agent = this.for(url);
    return url.protocol === 'https:' ? https.request(url, { ...options, agent }, onResponse) : http.request(url, { ...options, agent }, onResponse);
  }

  destroy(): void {
    this.http.destroy();
    this.https.destroy();
  }
}
