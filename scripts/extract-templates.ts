// What a standalone deployment of an extracted module needs, as text: its environment file, a
// Dockerfile and a Kubernetes manifest with the three probes wired. Written by extract-core.ts.

export function envFile(o: { module: string; port: number; monolithUrls: readonly string[] }): string {
  return `# Environment of the ${o.module} service (written by npm run extract; edit freely, it is not overwritten unless it differs from a fresh write).
# Use: set -a; . deploy/${o.module}/${o.module}.env; set +a; npm run service -- ${o.module}
SERVICE_MODULE=${o.module}
PORT=${o.port}
# A module apart from the monolith meets it through Redis: the bus must be BullMQ everywhere.
BUS=bullmq
REDIS_URL=redis://127.0.0.1:6379
# Its store is the one it always had: the same SQLite file under DATA_DIR (shared with the
# monolith while migrating), or its own Postgres schema and role:
DATA_DIR=./data
# DATABASE_URL=postgres://${o.module}:<password>@<host>:5432/<database>
# Where the other modules are: the topology file, and the monolith for every module still in it.
TOPOLOGY_FILE=./topology.json
MONOLITH_URLS=${o.monolithUrls.join(',')}
# Secrets: the same values on every deployable (required when NODE_ENV=production).
# SERVICE_JWT_SECRET=<at least 32 characters, shared by all deployables>
# JWT_SECRET=<the end-user token key, as on the monolith>
`;
}

export function dockerfile(o: { module: string; port: number; deployDir: string }): string {
  const dist = `${o.deployDir}/${o.module}/dist`;
  return `# The ${o.module} service alone: the esbuild bundle npm run extract wrote (platform, ${o.module}, and
# only the contracts of the modules it talks to), with production dependencies installed.
# Build from the repository root:  docker build -f ${o.deployDir}/${o.module}/Dockerfile -t ${o.module}-service .
FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production SERVICE_MODULE=${o.module} PORT=${o.port} BUS=bullmq
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
# Migrations are found relative to the bundle (../../../migrations), so keep this layout.
COPY migrations ./migrations
COPY ${dist} ./${dist}
USER node
EXPOSE ${o.port}
# SIGTERM drains in-flight requests, then exits 0.
STOPSIGNAL SIGTERM
CMD ["node", "${dist}/service.mjs"]
`;
}

export function kubernetesManifest(o: { module: string; port: number }): string {
  const name = `${o.module}-service`;
  return `# The ${o.module} service on Kubernetes. Other deployables reach it by its Service name
# (MODULE_${o.module.toUpperCase().replace(/-/g, '_')}_URLS=http://${name}:${o.port}); the proxy pool "${o.module}" can name it too.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: { app: ${name} }
spec:
  replicas: 2
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      terminationGracePeriodSeconds: 30
      containers:
        - name: ${o.module}
          image: ${name}:latest
          ports:
            - containerPort: ${o.port}
              name: http
          env:
            - { name: PORT, value: "${o.port}" }
            - { name: SERVICE_MODULE, value: "${o.module}" }
            - { name: BUS, value: "bullmq" }
          envFrom:
            - configMapRef: { name: ${name}-config, optional: true }
            - secretRef: { name: ${name}-secrets }
          # Startup gates the other two; liveness never checks dependencies; readiness does.
          startupProbe:
            httpGet: { path: /health/started, port: http }
            periodSeconds: 2
            failureThreshold: 30
          livenessProbe:
            httpGet: { path: /health/live, port: http }
            periodSeconds: 10
            failureThreshold: 3
          readinessProbe:
            httpGet: { path: /health/ready, port: http }
            periodSeconds: 5
            failureThreshold: 2
          resources:
            requests: { cpu: 100m, memory: 128Mi }
            limits: { memory: 512Mi }
---
apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  selector: { app: ${name} }
  ports:
    - name: http
      port: ${o.port}
      targetPort: http
`;
}
