# syntax=docker/dockerfile:1
# Latch: compile TypeScript in a build stage, run only production dependencies in the final stage.
#
# Base: Node 24 slim. Of the two LTS lines Latch supports in containers (22 and 24), 24 is the newer
# one and is supported longest (to April 2028); 22 reaches end of life in April 2027. To build on 22:
#   docker build --build-arg NODE_VERSION=22 -t latch .
# scripts/docker-runtime-check.mjs replays the final stage without a container engine (npm test runs
# it), reading the COPY/RUN/CMD/HEALTHCHECK lines below, so keep them in the exec forms it expects.
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:${NODE_VERSION}-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY config ./config
COPY dashboard ./dashboard
COPY scripts/healthcheck.mjs ./scripts/healthcheck.mjs
# The base image's unprivileged user; files stay root-owned and read-only to it.
USER node
# 8080: traffic. 9901: the admin API and /metrics; config/latch.yaml keeps it on loopback (for the
# HEALTHCHECK) unless a mounted config publishes it with a token.
EXPOSE 8080 9901
# GET /healthz on the config's admin listener (no curl in slim images); see scripts/healthcheck.mjs.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["node", "scripts/healthcheck.mjs", "--config", "config/latch.yaml"]
CMD ["node", "dist/cli/main.js", "--config", "config/latch.yaml"]
