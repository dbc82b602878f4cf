# syntax=docker/dockerfile:1.7
# Guardian's image: the official Node.js 24 image, production dependencies only, non-root.
# Guardian's TypeScript runs on Node 24's built-in type stripping: there is no build step.

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim AS runtime
# HOST=0.0.0.0: reachable from outside the container, so Guardian refuses to start until an API
# key exists (guardian keys create …, see docs/security.md) or GUARDIAN_AUTH=off is set.
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    GUARDIAN_DATA_DIR=/data
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json ./
COPY --chown=node:node bin ./bin
COPY --chown=node:node src ./src
COPY --chown=node:node detectors ./detectors
COPY --chown=node:node playbooks ./playbooks
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself; Guardian drains and exits on it.
CMD ["node", "src/cli.ts", "serve"]
