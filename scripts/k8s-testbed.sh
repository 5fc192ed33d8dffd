#!/usr/bin/env bash
# A real Kubernetes on loopback for the tests: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler and kwok, whose fake nodes turn bound Pods Running and Ready without
# containers, so Deployments, DaemonSets and Jobs really roll out. No Docker and no release
# downloads here: every binary is built from pinned modules of the Go module proxy.
#
#   scripts/k8s-testbed.sh build    builds the binaries into $AQEMIA_TOOLS/k8s (default
#                                   <repo>/.tools/k8s); cached, a second run takes a second
#   scripts/k8s-testbed.sh start    builds if needed, then starts the cluster and prints `env`;
#                                   if it is already up and healthy it only prints `env`
#   scripts/k8s-testbed.sh stop     stops it and deletes its etcd data: every start is a new,
#                                   empty cluster, so no test sees what an earlier one left
#   scripts/k8s-testbed.sh status   each process, and the apiserver's /readyz
#   scripts/k8s-testbed.sh env      `export KUBECONFIG=...` and `export PATH=...`, for eval
#
# The kubeconfig (context aqemia-testbed, user in system:masters) and each process's log and
# pid file live in $AQEMIA_TOOLS/k8s/run. Ports are free loopback ports picked at each start.
# Two kwok nodes, kwok-node-0 and kwok-node-1, carry the annotation kwok.x-k8s.io/node=fake but
# not kwok's NoSchedule taint: there are no real nodes to protect, and what the provider
# deploys must schedule as it would on EKS, without test-only tolerations. Services of type
# LoadBalancer get a hostname in AWS's format within a second; scripts/testbed/lb-standin
# describes its test knobs and how to have it make the load balancers in an AWS stand-in.
#
# A cold build takes about 15 minutes on 2 cores (Kubernetes 12, kwok 2, etcd 1); a start
# about 12 s. The Go build cache is the machine's own (GOCACHE), so a fresh clone on a machine
# that built once, like CI's, relinks in about 35 s. A start that fails stops what it started
# and names the log to read. Progress goes to stderr, `env` lines to stdout.
#
# Knobs: AQEMIA_TOOLS, AQEMIA_K8S_VERSION (1.37.2), AQEMIA_ETCD_VERSION (3.7.3),
# AQEMIA_KWOK_VERSION (0.8.0), AQEMIA_GO_JOBS (go build -p; default every core, the build is
# niced), AQEMIA_K8S_START_TIMEOUT (seconds, 120).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${AQEMIA_TOOLS:-$root/.tools}"
mkdir -p "$tools/k8s"
tools="$(cd "$tools" && pwd)"
k8s="$tools/k8s"
run="$k8s/run"
bin="$k8s/bin"

kube_version="${AQEMIA_K8S_VERSION:-1.37.2}"
etcd_version="${AQEMIA_ETCD_VERSION:-3.7.3}"
kwok_version="${AQEMIA_KWOK_VERSION:-0.8.0}"
go_jobs="${AQEMIA_GO_JOBS:-$(nproc)}"
start_timeout="${AQEMIA_K8S_START_TIMEOUT:-120}"

kube_dir="$k8s/kubernetes-v$kube_version"
etcd_dir="$k8s/etcd-v$etcd_version"
kwok_dir="$k8s/kwok-v$kwok_version"
kube_cmds=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
# Stopped in reverse order: the clients first, etcd last. eks-authenticator and lb-standin are
# ours (see scripts/testbed/): the first lets EKS tokens minted by the provider in, as EKS
# itself would; the second gives Services of type LoadBalancer a hostname, as the AWS Load
# Balancer Controller does on EKS, and on request a load balancer in an AWS stand-in.
components=(etcd eks-authenticator kube-apiserver kube-controller-manager kube-scheduler kwok lb-standin)
context=aqemia-testbed
service_cidr=10.96.0.0/16
service_ip=10.96.0.1

# shellcheck source=lib/go-module.sh
source "$root/scripts/lib/go-module.sh"
# shellcheck source=lib/ports.sh
source "$root/scripts/lib/ports.sh"

say() { printf '[k8s-testbed] %s\n' "$*" >&2; }
die() { printf '[k8s-testbed] ERROR: %s\n' "$*" >&2; exit 1; }

# One build or start at a time: several test sessions may call this together. The daemons are
# started with fd 9 closed, or they would hold the lock for as long as they run.
locked=0
lock() {
  ((locked)) && return 0
  locked=1
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$k8s/.lock"
    flock 9
  fi
}

# ---------------------------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------------------------

# A build is complete when its stamp names exactly what was built; binaries go to a temporary
# directory first, so an interrupted build never looks finished.
built() { # dir stamp
  [[ -f "$1/.stamp" && "$(cat "$1/.stamp")" == "$2" ]]
}

# Copies $module@$version from the module cache into a writable directory, points its local
# replaces at the published sibling modules of version $siblings, and prints its path.
module_source() { # module version siblings log
  local module="$1" version="$2" siblings="$3" log="$4" src="$k8s/src/${1//\//_}@$2"
  go_module_copy "$module" "$version" "$src" >/dev/null 2>>"$log" || die "go mod download $module@$version failed; see $log"
  go_rewrite_local_replaces "$src" "$siblings" >>"$log" 2>&1 || die "rewriting the go.mod of $module failed; see $log"
  printf '%s\n' "$src"
}

go_build() { # name src log output ldflags packages...
  local name="$1" src="$2" log="$3" out="$4" ldflags="$5"
  shift 5
  if ! go_build_in "$src" "$go_jobs" "$out" "$ldflags" "$@" >>"$log" 2>&1; then
    tail -30 "$log" >&2
    die "go build of $name failed; see $log"
  fi
}

build_component() { # name dir stamp function
  local name="$1" dir="$2" stamp="$3" fn="$4" log="$k8s/logs/$1.log" tmp="$2.tmp" start=$SECONDS
  built "$dir" "$stamp" && return 0
  command -v go >/dev/null 2>&1 || die "go is not installed: cannot build $name"
  mkdir -p "$k8s/logs"
  say "building $stamp from the Go module proxy ($(go version | cut -d' ' -f3), -p $go_jobs, nice 15; log: $log)"
  : >"$log"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  "$fn" "$log" "$tmp"
  printf '%s\n' "$stamp" >"$tmp/.stamp"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  say "  built $name in $((SECONDS - start)) s"
  printf 'built in %s s\n' "$((SECONDS - start))" >>"$log"
}

build_kubernetes() { # log out
  local log="$1" out="$2" src minor="${kube_version#*.}" ldflags="-s -w" key val
  minor="${minor%%.*}"
  # Release 1.X.Y's staging modules (k8s.io/api and the rest) are published as v0.X.Y.
  src="$(module_source k8s.io/kubernetes "v$kube_version" "v0.$minor.${kube_version##*.}" "$log")"
  # What hack/lib/version.sh stamps, so `kubectl version` and the skew checks see a release.
  for key in gitVersion=v$kube_version gitMajor=1 gitMinor=$minor gitTreeState=clean; do
    for val in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
      ldflags+=" -X $val.$key"
    done
  done
  # One invocation, so the packages the four commands share compile once.
  go_build kubernetes "$src" "$log" "$out/" "$ldflags" "${kube_cmds[@]/#/./cmd/}"
  rm -rf "$src"
}

build_etcd() { # log out
  local log="$1" out="$2" src
  src="$(module_source go.etcd.io/etcd/server/v3 "v$etcd_version" "v$etcd_version" "$log")"
  go_build etcd "$src" "$log" "$out/etcd" "-s -w" .
  rm -rf "$src"
}

build_kwok() { # log out
  local log="$1" out="$2" src
  src="$(module_source sigs.k8s.io/kwok "v$kwok_version" "v$kwok_version" "$log")"
  go_build kwok "$src" "$log" "$out/kwok" "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=v$kwok_version" ./cmd/kwok
  # The kwok binary has no stages of its own; kwokctl hands it these, the same release's
  # defaults: nodes become Ready and keep a lease, Pods become Ready, Jobs' Pods complete.
  local stage
  for stage in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
               pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
    [[ -f "$src/kustomize/stage/$stage.yaml" ]] || die "kwok v$kwok_version has no stage $stage"
    printf -- '---\n' >>"$out/stages.yaml"
    cat "$src/kustomize/stage/$stage.yaml" >>"$out/stages.yaml"
  done
  rm -rf "$src"
}

cmd_build() {
  lock
  build_component kubernetes "$kube_dir" "kubernetes v$kube_version" build_kubernetes
  build_component etcd "$etcd_dir" "etcd v$etcd_version" build_etcd
  build_component kwok "$kwok_dir" "kwok v$kwok_version, default stages" build_kwok
  rmdir "$k8s/src" 2>/dev/null || true
  # bin/ always names the pinned versions, so `env` needs no version logic.
  mkdir -p "$bin"
  local c
  for c in "${kube_cmds[@]}"; do ln -sfn "$kube_dir/$c" "$bin/$c"; done
  ln -sfn "$etcd_dir/etcd" "$bin/etcd"
  ln -sfn "$kwok_dir/kwok" "$bin/kwok"
  say "binaries in $bin: kubernetes v$kube_version, etcd v$etcd_version, kwok v$kwok_version"
}

# ---------------------------------------------------------------------------------------------
# start, stop, status, env
# ---------------------------------------------------------------------------------------------
pki="$run/pki"
kubeconfig="$run/kubeconfig"

pid_of() { # component: prints its pid if that process is alive and runs our binary or script
  local pid script="$root/scripts/testbed/$1"
  pid="$(cat "$run/$1.pid" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  # A pid file outlives its process and pids are reused: check what runs under it.
  if [[ -x "$script" ]]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$script" || return 1
  else
    [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == "$(readlink -f "$bin/$1")" ]] || return 1
  fi
  printf '%s\n' "$pid"
}

kubectl() { "$bin/kubectl" --kubeconfig "$kubeconfig" "$@"; }

readyz() { [[ -f "$kubeconfig" ]] && kubectl get --raw /readyz >/dev/null 2>&1; }

healthy() {
  local c
  for c in "${components[@]}"; do pid_of "$c" >/dev/null || return 1; done
  readyz
}

cmd_env() {
  printf 'export KUBECONFIG=%q\n' "$kubeconfig"
  printf 'export PATH=%q:"$PATH"\n' "$bin"
}

cmd_status() {
  local c pid rc=0
  for c in "${components[@]}"; do
    if pid="$(pid_of "$c")"; then
      printf '%-24s running (pid %s, log %s)\n' "$c" "$pid" "$run/$c.log"
    else
      printf '%-24s not running\n' "$c"
      rc=1
    fi
  done
  if readyz; then
    printf '%-24s ok (%s)\n' "apiserver /readyz" "$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')"
  else
    printf '%-24s not ready\n' "apiserver /readyz"
    rc=1
  fi
  return "$rc"
}

stop_all() {
  local c pid pids=() deadline
  for ((i = ${#components[@]} - 1; i >= 0; i--)); do
    c="${components[i]}"
    if pid="$(pid_of "$c")"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  deadline=$((SECONDS + 15))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      say "pid $pid ignored SIGTERM for 15 s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for c in "${components[@]}"; do rm -f "$run/$c.pid"; done
  # Every start is a new, empty cluster: nothing a test left behind survives a restart.
  rm -rf "$run/etcd-data"
}

cmd_stop() {
  lock
  stop_all
  say "stopped"
}

# A certificate signed by the test bed's CA; $3 are the extension lines.
issue() { # name subject extensions
  local name="$1" subject="$2"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$pki/$name.key" -subj "$subject" \
    -out "$pki/$name.csr" 2>>"$pki/openssl.log"
  printf '%s\n' "$3" >"$pki/$name.ext"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 3650 -sha256 -extfile "$pki/$name.ext" \
    -out "$pki/$name.crt" 2>>"$pki/openssl.log"
  rm -f "$pki/$name.csr" "$pki/$name.ext"
}

# Kept across restarts: a kubeconfig copied elsewhere stays valid, and a start saves the time.
make_pki() {
  [[ -f "$pki/.complete" ]] && return 0
  command -v openssl >/dev/null 2>&1 ||
    die "openssl is needed for the test bed's certificates (on Debian: apt-get install openssl)"
  rm -rf "$pki"
  mkdir -p "$pki"
  chmod 700 "$pki"
  local client='basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth'
  {
    printf '[req]\ndistinguished_name=dn\n[dn]\n[ca]\n'
    printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n'
    printf 'subjectKeyIdentifier=hash\n'
  } >"$pki/ca.cnf"
  openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.crt" \
    -subj "/CN=aqemia-testbed-ca" -days 3650 -config "$pki/ca.cnf" -extensions ca \
    2>>"$pki/openssl.log" || die "openssl could not make the CA; see $pki/openssl.log"
  issue apiserver "/CN=kube-apiserver" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,IP:$service_ip,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" ||
    die "openssl could not issue the apiserver certificate; see $pki/openssl.log"
  issue admin "/O=system:masters/CN=aqemia-admin" "$client" &&
    issue kube-controller-manager "/CN=system:kube-controller-manager" "$client" &&
    issue kube-scheduler "/CN=system:kube-scheduler" "$client" ||
    die "openssl could not issue the client certificates; see $pki/openssl.log"
  openssl genrsa -out "$pki/sa.key" 2048 2>>"$pki/openssl.log" &&
    openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>>"$pki/openssl.log" ||
    die "openssl could not make the service-account key; see $pki/openssl.log"
  touch "$pki/.complete"
}

write_kubeconfig() { # file client-cert-name server
  local b64='base64 -w0'
  cat >"$1" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: $context
  cluster:
    server: $3
    certificate-authority-data: $($b64 "$pki/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $($b64 "$pki/$2.crt")
    client-key-data: $($b64 "$pki/$2.key")
contexts:
- name: $context
  context:
    cluster: $context
    user: $2
current-context: $context
KUBECONFIG
  chmod 600 "$1"
}

# The kubeconfig-shaped file that points kube-apiserver's token webhook at a URL.
write_webhook_config() { # file url
  cat >"$1" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: eks-authenticator
  cluster:
    server: $2
users:
- name: kube-apiserver
contexts:
- name: webhook
  context:
    cluster: eks-authenticator
    user: kube-apiserver
current-context: webhook
KUBECONFIG
}

# Runs a daemon in its own session (a Ctrl-C where `start` ran does not reach it) without fd 9,
# the lock.
launch() { # component args...  (a built binary, or a script of ours in scripts/testbed)
  local c="$1" exe="$bin/$1"
  shift
  [[ -x "$root/scripts/testbed/$c" ]] && exe="$root/scripts/testbed/$c"
  if command -v setsid >/dev/null 2>&1; then
    setsid "$exe" "$@" </dev/null >"$run/$c.log" 2>&1 9>&- &
  else
    nohup "$exe" "$@" </dev/null >"$run/$c.log" 2>&1 9>&- &
  fi
  printf '%s\n' "$!" >"$run/$c.pid"
}

# Polls $@ until it succeeds; fails early, naming the log, when a started process has died.
wait_for() { # what deadline command...
  local what="$1" deadline="$2" c
  shift 2
  until "$@" >/dev/null 2>&1; do
    for c in "${components[@]}"; do
      if [[ -f "$run/$c.pid" ]] && ! pid_of "$c" >/dev/null; then
        tail -20 "$run/$c.log" >&2
        die "$c exited while waiting for $what; see $run/$c.log"
      fi
    done
    ((SECONDS < deadline)) || die "timed out after ${start_timeout} s waiting for $what; logs in $run"
    sleep 0.5
  done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

default_sa() { kubectl -n default get serviceaccount default; }

nodes_ready() {
  [[ "$(kubectl get nodes -l type=kwok -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$')" == 2 ]]
}

nodes_manifest() {
  local i
  for i in 0 1; do
    cat <<NODE
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    beta.kubernetes.io/arch: amd64
    beta.kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    topology.kubernetes.io/zone: testbed-$i
    type: kwok
spec:
  podCIDR: 10.244.$i.0/24
  podCIDRs: [10.244.$i.0/24]
status:
  # Both kinds, or kwok's node-initialize stage replaces the list with what its flags give.
  addresses:
  - {type: InternalIP, address: 192.0.2.$((i + 1))}
  - {type: Hostname, address: kwok-node-$i}
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    kubeletVersion: v$kube_version
NODE
  done
}

cmd_start() {
  lock
  cmd_build
  if healthy; then
    say "already running"
    cmd_env
    return 0
  fi
  # A second attempt on new ports: free ports are picked, closed, then bound by the
  # components, and on a busy machine another process can take one in between.
  if (start_cluster); then
    return 0
  fi
  rm -rf "$run/failed-start" && mkdir -p "$run/failed-start" && cp "$run"/*.log "$run/failed-start/" 2>/dev/null || true
  say "retrying on new ports; the first attempt's logs are in $run/failed-start"
  (start_cluster) || die "the test bed did not start twice in a row; see the logs above"
}

# One start: new ports, new certificates, every component launched and waited for. Runs in
# a subshell; on failure it stops what it started and exits non-zero.
start_cluster() {
  local start=$SECONDS deadline etcd_client etcd_peer api kcm sched kwok_port authn
  deadline=$((SECONDS + start_timeout))
  command -v python3 >/dev/null 2>&1 || die "python3 is needed to pick free ports"
  stop_all # whatever is left of a start that died half-way
  # On failure nothing is left running; the logs stay for the error message to point at.
  trap stop_all EXIT
  mkdir -p "$run"
  make_pki
  read -r etcd_client etcd_peer api kcm sched kwok_port authn < <(free_ports 7)
  [[ -n "${authn:-}" ]] || die "could not pick free loopback ports"
  local server="https://127.0.0.1:$api"
  write_kubeconfig "$kubeconfig" admin "$server"
  write_kubeconfig "$run/kube-controller-manager.kubeconfig" kube-controller-manager "$server"
  write_kubeconfig "$run/kube-scheduler.kubeconfig" kube-scheduler "$server"
  say "starting etcd v$etcd_version and kubernetes v$kube_version on 127.0.0.1 (logs in $run)"

  launch etcd --name testbed --data-dir "$run/etcd-data" --log-level warn \
    --listen-client-urls "http://127.0.0.1:$etcd_client" \
    --advertise-client-urls "http://127.0.0.1:$etcd_client" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "testbed=http://127.0.0.1:$etcd_peer" \
    --unsafe-no-fsync
  wait_for "etcd on port $etcd_client" "$deadline" port_open "$etcd_client"

  launch eks-authenticator "$authn" "$run/eks-token-max-age"
  write_webhook_config "$run/eks-authenticator.kubeconfig" "http://127.0.0.1:$authn/"
  wait_for "the EKS token authenticator on port $authn" "$deadline" port_open "$authn"

  # A loopback advertise address is invalid in Endpoints: like Kubernetes' own test server,
  # the `kubernetes` Service gets no endpoints rather than an error every ten seconds.
  # Token reviews are cached 2 s, not 2 min: a token that expires is refused soon after, as
  # tests of token renewal need.
  launch kube-apiserver --etcd-servers "http://127.0.0.1:$etcd_client" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-cluster-ip-range "$service_cidr" \
    --authorization-mode Node,RBAC --allow-privileged=true \
    --authentication-token-webhook-config-file "$run/eks-authenticator.kubeconfig" \
    --authentication-token-webhook-version v1 \
    --authentication-token-webhook-cache-ttl 2s \
    --endpoint-reconciler-type none --profiling=false
  wait_for "kube-apiserver /readyz on port $api" "$deadline" readyz

  launch kube-controller-manager --kubeconfig "$run/kube-controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$kcm" --cert-dir "$run/kube-controller-manager-certs" \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
    --use-service-account-credentials=true --leader-elect=false \
    --service-cluster-ip-range "$service_cidr" --controllers '*'
  launch kube-scheduler --kubeconfig "$run/kube-scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$sched" --cert-dir "$run/kube-scheduler-certs" \
    --leader-elect=false
  launch kwok --kubeconfig "$kubeconfig" --config "$kwok_dir/stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --cidr 10.244.0.0/16 --node-lease-duration-seconds 40 \
    --server-address "127.0.0.1:$kwok_port"
  launch lb-standin "$kubeconfig"

  nodes_manifest | kubectl apply -f - >/dev/null ||
    die "creating the kwok nodes failed; see $run/kube-apiserver.log"
  wait_for "both kwok nodes Ready" "$deadline" nodes_ready
  wait_for "the default ServiceAccount (kube-controller-manager)" "$deadline" default_sa
  trap - EXIT
  say "started in $((SECONDS - start)) s"
  cmd_env
}

case "${1:-}" in
  build) cmd_build ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) die "usage: $0 build|start|stop|status|env" ;;
esac
