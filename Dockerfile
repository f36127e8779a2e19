# featurelake service image: `docker compose up` builds it (see docker-compose.yml); infra/k8s
# runs it on Kubernetes (see infra/README.md).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json nest-cli.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY package.json ./
COPY feature-repo ./feature-repo
# The DuckDB working files (FEATURELAKE_OFFLINE_PATH, FEATURELAKE_STATE_DIR) go here: a volume in
# docker-compose.yml, an emptyDir in Kubernetes. Owned by `node`, so that a new named volume is too.
RUN mkdir -p /var/lib/featurelake && chown 1000:1000 /var/lib/featurelake
# The image's `node` user, by number so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 6566
ENTRYPOINT ["node", "bin/featurelake.js"]
CMD ["serve", "--host", "0.0.0.0", "--port", "6566"]
