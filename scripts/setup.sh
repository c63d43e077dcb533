#!/bin/sh
# Makes a fresh machine (Node 20 and npm only) ready to build, test and run the demo. Idempotent and quick
# when everything is already there, so both README commands can start with it.
set -eu
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*" >&2; }

if ! command -v pnpm >/dev/null 2>&1; then
  # corepack cannot verify the registry's signatures here; npm installs pnpm as a plain package.
  log 'installing pnpm 10 with npm'
  npm install --global --no-fund --no-audit pnpm@10 >&2
fi

# Debian packages for the real FastAPI agent and the real Prometheus used by the end-to-end tests and the
# demo, and the tools the static checks and benchmarks use. They go to /usr/bin/python3, which is why the tests run that interpreter explicitly.
need_apt=''
/usr/bin/python3 -c 'import fastapi, uvicorn, prometheus_client' >/dev/null 2>&1 ||
  need_apt="$need_apt python3-fastapi python3-uvicorn python3-prometheus-client"
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || need_apt="$need_apt prometheus"
# The kind test script is linted by shellcheck; /usr/bin/time -v and wrk are what bench/ measures with.
command -v shellcheck >/dev/null 2>&1 || need_apt="$need_apt shellcheck"
[ -x /usr/bin/time ] || need_apt="$need_apt time"
command -v wrk >/dev/null 2>&1 || need_apt="$need_apt wrk"
if [ -n "$need_apt" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian packages:$need_apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $need_apt >&2
    # The Debian package starts a Prometheus service where systemd runs. Only the one installed just now is
    # disabled (through systemd, never by killing a process by name); a Prometheus the machine already had
    # is left alone: the tests run their own on free ports and stop it by PID, and the demo picks a free
    # port when :9090 is taken.
    case "$need_apt" in
      *' prometheus'*)
        if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
          systemctl disable --now prometheus >/dev/null 2>&1 || true
        fi
        ;;
    esac
  else
    log "missing (tests that need them are skipped with a reason):$need_apt"
    log "install them with: sudo apt-get install$need_apt"
  fi
fi

# The container tests' engine and tools (docker.io, docker-compose, mmdebstrap, gcc): installed where this
# runs as root on Debian; the tests start a private engine of their own (scripts/container-env.sh).
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then sh scripts/container-env.sh install; fi

if [ ! -f node_modules/.modules.yaml ] || [ -n "$(find pnpm-lock.yaml -newer node_modules/.modules.yaml)" ]; then
  log 'installing dependencies with pnpm'
  CI=true pnpm install --frozen-lockfile >&2
fi
