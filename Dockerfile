# syntax=docker/dockerfile:1
# talos-capi operator image: Node 24 LTS, production dependencies only, uid/gid 65532, read-only root
# filesystem. test/e2e/image.test.ts runs these steps without Docker (scripts/image/), so keep to
# FROM, WORKDIR, COPY [--from], RUN, ENV, USER, EXPOSE and an exec-form ENTRYPOINT.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No install scripts: none is needed to compile or to run (the production tree is the same file for
# file), and the `node` devDependency would download a second Node.js of ~120 MB for nothing.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY protos ./protos
COPY bin ./bin
COPY package.json ./
# One uid for the image and every manifest in deploy/ (their runAsUser/runAsGroup); it has no
# passwd entry, so HOME is /, which it never writes to.
USER 65532:65532
EXPOSE 8080 9440 9443
# `talos-capi run` through node, for its flags: the operator's live heap is small (~25 MiB at 500
# configs) and its garbage short-lived: a 1 MiB young generation (default up to 16 MiB per
# semi-space) and an old generation that grows by half before the next full GC (V8 otherwise lets a
# small heap grow several-fold) keep peak RSS at ~115 MiB instead of 130-170 on bench:bootstrap
# 50/500, at no CPU cost it can measure. bench:bootstrap runs the operator with these flags.
ENTRYPOINT ["node", "--max-semi-space-size=1", "--heap-growing-percent=50", "/app/bin/talos-capi.cjs", "run"]
