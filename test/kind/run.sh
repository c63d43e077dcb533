#!/usr/bin/env bash
# End-to-end test on a real Kubernetes cluster (kind), for a machine with a Docker engine:
#   test/kind/run.sh              # create a cluster, build, load, test, delete the cluster
#   KEEP_CLUSTER=1 test/kind/run.sh
# Needs docker, kind (>= 0.23) and kubectl. It:
#   1. creates a kind cluster on a node image >= 1.29 (native sidecars),
#   2. builds the three images and loads them into the cluster,
#   3. applies k8s/base with strict field validation and waits for the Pod to be 3/3 Ready,
#   4. sends requests and asserts the log-sidecar printed each one and :9090 serves the agent's series,
#   5. deletes the Pod right after a last burst of requests and asserts those lines were still shipped,
#   6. runs the batch Job to completion and asserts every line reached the log-sidecar, which exited 0.
# It also asserts the Service has ready endpoints on both its ports (the agent's and the metrics-sidecar's
# on a native sidecar). With KEEP_CLUSTER=1 a rerun replaces the previous run's Job, so the Job checked
# is always this run's.
set -euo pipefail

cd "$(dirname "$0")/../.."

CLUSTER="${CLUSTER:-agent-sidecars}"
NODE_IMAGE="${KIND_NODE_IMAGE:-kindest/node:v1.32.0}"
NAMESPACE="${NAMESPACE:-agent-sidecars-e2e}"
# The tag the manifests name; the images are loaded into the nodes, never pulled.
TAG="0.1.0"
REQUESTS="${REQUESTS:-20}"
WORK="$(mktemp -d)"
PIDS=()

log() { printf '\n== %s\n' "$*" >&2; }
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}

cleanup() {
  local status=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ "$status" -ne 0 ]; then
    echo "--- state at failure" >&2
    kubectl -n "$NAMESPACE" get pods -o wide >&2 || true
    kubectl -n "$NAMESPACE" describe pods >&2 || true
    kubectl -n "$NAMESPACE" logs -l app.kubernetes.io/name=agent --all-containers --prefix --tail=50 >&2 || true
  fi
  rm -rf "$WORK"
  if [ "${KEEP_CLUSTER:-0}" != 1 ] && [ "${CREATED_CLUSTER:-0}" = 1 ]; then
    kind delete cluster --name "$CLUSTER" >&2 || true
  fi
  exit "$status"
}
trap cleanup EXIT

# Polls COMMAND until it succeeds or SECONDS pass: never a fixed sleep in place of a condition.
wait_for() {
  local what="$1" seconds="$2"
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then fail "timed out after ${seconds}s waiting for $what"; fi
    sleep 1
  done
}

for tool in docker kind kubectl curl; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed"
done

log "cluster $CLUSTER on $NODE_IMAGE"
if ! kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  kind create cluster --name "$CLUSTER" --image "$NODE_IMAGE" --wait 120s
  CREATED_CLUSTER=1
fi
kubectl config use-context "kind-$CLUSTER" >/dev/null
server_minor="$(kubectl version -o json | sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p' | tail -1)"
[ "${server_minor:-0}" -ge 29 ] || fail "Kubernetes 1.${server_minor} has no native sidecars; use a node image >= 1.29"

log "building and loading the images"
revision="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
for image in log-sidecar metrics-sidecar agent; do
  if [ "$image" = agent ]; then
    dockerfile=(-f images/agent/Dockerfile)
  else
    dockerfile=(-f images/sidecar/Dockerfile --build-arg "SIDECAR=$image")
  fi
  docker build "${dockerfile[@]}" --build-arg VERSION="$TAG" --build-arg REVISION="$revision" \
    -t "agent-sidecars/$image:$TAG" .
  kind load docker-image --name "$CLUSTER" "agent-sidecars/$image:$TAG"
done

log "applying k8s/base in namespace $NAMESPACE"
kubectl create namespace "$NAMESPACE" --dry-run=client -o yaml | kubectl apply -f -
# Strict: the API server rejects unknown or duplicate fields, which the offline schema check lets through.
kubectl apply --validate=strict -n "$NAMESPACE" -k k8s/base
kubectl -n "$NAMESPACE" rollout status deployment/agent --timeout=180s

pod_name() {
  kubectl -n "$NAMESPACE" get pods -l app.kubernetes.io/name=agent \
    --field-selector=status.phase=Running -o jsonpath='{.items[0].metadata.name}'
}
pod_ready_3_of_3() {
  local pod
  pod="$(pod_name)"
  [ -n "$pod" ] && [ "$(kubectl -n "$NAMESPACE" get pod "$pod" --no-headers | awk '{print $2}')" = "3/3" ]
}
wait_for "the agent Pod to be 3/3 Ready" 120 pod_ready_3_of_3
POD="$(pod_name)"
echo "pod $POD is 3/3 Ready" >&2

# Both Service ports must have a ready endpoint: the metrics port is on a native sidecar (an init
# container), which a named targetPort does not resolve to before Kubernetes 1.32.
# Compared by port name: an Endpoints port carries the name of the Service port it serves.
service_ports() {
  kubectl -n "$NAMESPACE" get service agent -o jsonpath='{range .spec.ports[*]}{.name}{"\n"}{end}'
}
endpoint_ports() {
  kubectl -n "$NAMESPACE" get endpoints agent \
    -o jsonpath='{range .subsets[?(@.addresses)]}{range .ports[*]}{.name}{"\n"}{end}{end}'
}
endpoints_ready() {
  local want
  [ -n "$(endpoint_ports)" ] || return 1
  for want in $(service_ports); do endpoint_ports | grep -qx "$want" || return 1; done
}
wait_for "the Service's endpoints on every port" 60 endpoints_ready
echo "service agent has ready endpoints on ports $(endpoint_ports | tr '\n' ' ')" >&2

log "sending $REQUESTS requests through the Service"
kubectl -n "$NAMESPACE" port-forward svc/agent 18080:80 19090:9090 >"$WORK/port-forward.log" 2>&1 &
PIDS+=("$!")
wait_for "the port-forward" 30 curl -sf http://127.0.0.1:18080/healthz

infer() {
  curl -sf -X POST http://127.0.0.1:18080/inference -H 'content-type: application/json' \
    -H "x-request-id: $1" -d '{"input": "a great day"}' >/dev/null
}
for i in $(seq 1 "$REQUESTS"); do infer "kind-req-$i" || fail "request kind-req-$i failed"; done

shipped_all() {
  local prefix="$1" count="$2" file="$3"
  kubectl -n "$NAMESPACE" logs "$POD" -c log-sidecar >"$file" 2>/dev/null || return 1
  local n
  for n in $(seq 1 "$count"); do grep -q "$prefix-$n\b" "$file" || return 1; done
}
wait_for "the log-sidecar to print every request" 60 shipped_all kind-req "$REQUESTS" "$WORK/log-sidecar.out"
echo "log-sidecar printed all $REQUESTS requests" >&2

metrics_served() {
  curl -sf http://127.0.0.1:19090/metrics >"$WORK/metrics.txt" || return 1
  local value
  value="$(grep -E '^agent_requests_total\{.*path="/inference".*status="200".*\} ' "$WORK/metrics.txt" |
    awk '{print $2}' | head -1)"
  [ -n "$value" ] && awk -v v="$value" -v want="$REQUESTS" 'BEGIN { exit !(v + 0 >= want + 0) }'
}
# The metrics-sidecar scrapes every 15 s: allow a few intervals.
wait_for "the agent's series on :9090" 60 metrics_served
grep -q '^# TYPE agent_request_duration_seconds histogram' "$WORK/metrics.txt" ||
  fail ":9090 lacks the agent's latency histogram"
echo ":9090 serves the agent's series" >&2

log "deleting the Pod right after a last burst: the log-sidecar must ship it before it exits"
kubectl -n "$NAMESPACE" logs -f "$POD" -c log-sidecar >"$WORK/final.out" 2>&1 &
LOGS_PID=$!
PIDS+=("$LOGS_PID")
for i in $(seq 1 10); do infer "kind-final-$i" || fail "request kind-final-$i failed"; done
kubectl -n "$NAMESPACE" delete pod "$POD" --wait=true --timeout=120s
# The stream ends when the log-sidecar, stopped last, has exited.
stream_ended() { ! kill -0 "$LOGS_PID" 2>/dev/null; }
wait_for "the log-sidecar's log stream to end" 60 stream_ended
for i in $(seq 1 10); do
  grep -q "kind-final-$i\b" "$WORK/final.out" || fail "kind-final-$i was not shipped before the Pod ended"
done
echo "all 10 last lines were shipped before the Pod ended" >&2
kubectl -n "$NAMESPACE" rollout status deployment/agent --timeout=180s

log "running the batch Job to completion"
# A Job's template cannot be changed, and a kept cluster still has the previous run's completed Job:
# remove it (and its Pods) first, so the Job and the Pod checked below are this run's.
kubectl -n "$NAMESPACE" delete job agent-batch --ignore-not-found --wait=true --timeout=120s
kubectl apply --validate=strict -n "$NAMESPACE" -k k8s/job
job_uid="$(kubectl -n "$NAMESPACE" get job agent-batch -o jsonpath='{.metadata.uid}')"
kubectl -n "$NAMESPACE" wait --for=condition=complete job/agent-batch --timeout=180s
job_pod="$(kubectl -n "$NAMESPACE" get pods -l "controller-uid=$job_uid" -o jsonpath='{.items[0].metadata.name}')"
[ -n "$job_pod" ] || fail "no Pod of Job agent-batch ($job_uid)"
run_id="$(kubectl -n "$NAMESPACE" logs "$job_pod" -c agent | sed -n 's/^batch \([0-9a-f]*\): wrote \([0-9]*\) lines$/\1/p')"
lines="$(kubectl -n "$NAMESPACE" logs "$job_pod" -c agent | sed -n 's/^batch [0-9a-f]*: wrote \([0-9]*\) lines$/\1/p')"
if [ -z "$run_id" ] || [ -z "$lines" ]; then fail "the batch agent did not report its run"; fi
sidecar_exit() {
  kubectl -n "$NAMESPACE" get pod "$job_pod" \
    -o jsonpath='{.status.initContainerStatuses[?(@.name=="log-sidecar")].state.terminated.exitCode}'
}
sidecar_terminated() { [ -n "$(sidecar_exit)" ]; }
wait_for "the Job's log-sidecar to terminate" 60 sidecar_terminated
[ "$(sidecar_exit)" = 0 ] || fail "the Job's log-sidecar exited $(sidecar_exit)"
shipped="$(kubectl -n "$NAMESPACE" logs "$job_pod" -c log-sidecar | grep -oE "$run_id-[0-9]+" | sort -u | wc -l)"
[ "$shipped" -eq "$lines" ] || fail "the Job's log-sidecar shipped $shipped of $lines lines"
echo "Job completed; its log-sidecar shipped all $lines lines and exited 0" >&2

log "PASS"
