# STAND-IN for prom/prometheus, made by scripts/container-env.sh only inside its private engine when no
# registry answers: Debian's prometheus (the machine's binary when it has one, else the package), with
# the real image's entrypoint, user, working directory and default arguments.
FROM debian:bookworm-slim
COPY . /stand-in/
RUN if [ -x /stand-in/prometheus ]; then install -m 0755 /stand-in/prometheus /bin/prometheus; \
    else apt-get update && apt-get install -y --no-install-recommends prometheus \
      && ln -s /usr/bin/prometheus /bin/prometheus && rm -rf /var/lib/apt/lists/*; fi \
    && rm -rf /stand-in && mkdir -p /etc/prometheus /prometheus && chown 65534:65534 /prometheus \
    && printf '%s\n' 'global:' '  scrape_interval: 15s' 'scrape_configs: []' >/etc/prometheus/prometheus.yml
USER 65534:65534
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
