# STAND-IN for gcr.io/distroless/nodejs<major>-debian12:nonroot, made by scripts/container-env.sh only
# inside its private engine when no registry answers: Node at the same path (/nodejs/bin/node), the
# shared libraries it links, CA certificates, the nonroot user (65532) and no shell.
ARG NODE_IMAGE
FROM ${NODE_IMAGE} AS source
RUN mkdir -p /out/nodejs/bin /out/etc/ssl/certs /out/tmp /out/home/nonroot \
    && cp /usr/local/bin/node /out/nodejs/bin/node \
    && for lib in $(ldd /usr/local/bin/node | awk '$2 == "=>" { print $3 } $1 ~ /^\// { print $1 }'); do \
         mkdir -p "/out$(dirname "$lib")" && cp -L "$lib" "/out$lib"; done \
    && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
    && printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
         'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >/out/etc/passwd \
    && printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' >/out/etc/group \
    && chmod 1777 /out/tmp && chown 65532:65532 /out/home/nonroot

FROM scratch
COPY --from=source /out/ /
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
WORKDIR /home/nonroot
ENTRYPOINT ["/nodejs/bin/node"]
