# STAND-IN for grafana/loki, made by scripts/container-env.sh only inside its private engine when no
# registry answers: a record receiver that speaks Loki's JSON push API and answers query_range from
# memory (see loki-receiver.mjs). Loki's own arguments (-config.file=...) are accepted and ignored.
ARG DISTROLESS_IMAGE
FROM ${DISTROLESS_IMAGE}
COPY loki-receiver.mjs /loki-receiver.mjs
# Its storage directory, owned by Loki's uid as in the real image.
COPY --chown=10001:10001 loki-data /loki
USER 10001:10001
EXPOSE 3100
ENTRYPOINT ["/nodejs/bin/node", "/loki-receiver.mjs"]
