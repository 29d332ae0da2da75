#!/usr/bin/env bash
# Starts or stops a private Docker engine for tests (CI machines have only the client).
# Usage: scripts/dockerd.sh start|stop|status [1|2]
#   1 (default): the tests' engine; prints `export DOCKER_HOST=unix:///tmp/comfy-panel-dockerd/docker.sock`.
#   2: a second, separate engine for the fleet tests (own data-root, exec-root, socket, pidfile,
#      containerd and bridge); prints `export COMFY_PANEL_DOCKER_HOST_2=unix:///tmp/comfy-panel-dockerd-2/docker.sock`.
# The second engine gets its own bridge (`ip link add ... type bridge`, an address outside
# Docker's default pools, `--bridge=NAME`) and its own pool for user networks, so the two never
# share a subnet. Never start one with --bridge=none beside another: that deletes docker0 and
# breaks the first engine's containers (so does a restart with --default-address-pool and a
# stale network store, which is why engine 2 starts with a fresh one).
set -euo pipefail
INSTANCE="${2:-1}"
case "$INSTANCE" in
  1)
    D="${COMFY_PANEL_DOCKERD_DIR:-/tmp/comfy-panel-dockerd}"
    VAR=DOCKER_HOST
    EXTRA_ARGS=()
    ;;
  2)
    D="${COMFY_PANEL_DOCKERD2_DIR:-/tmp/comfy-panel-dockerd-2}"
    VAR=COMFY_PANEL_DOCKER_HOST_2
    BRIDGE="${COMFY_PANEL_DOCKERD2_BRIDGE:-comfy-dockerd2}"
    BRIDGE_ADDR="${COMFY_PANEL_DOCKERD2_BRIDGE_ADDR:-10.231.0.1/24}"
    # Its own config file holding its own key file: the engine ID comes from the key, and the
    # default /etc/docker/key.json is the first engine's (same ID would make them look like one).
    EXTRA_ARGS=(--bridge="$BRIDGE" --default-address-pool "base=${COMFY_PANEL_DOCKERD2_POOL:-10.232.0.0/16},size=24" --config-file "$D/daemon.json")
    ;;
  *) echo "usage: $0 start|stop|status [1|2]" >&2; exit 2 ;;
esac
SOCK="$D/docker.sock"
export DOCKER_HOST="unix://$SOCK"

ensure_bridge() {
  [ "$INSTANCE" = 2 ] || return 0
  command -v ip >/dev/null || { echo "ip not found: apt-get install -y iproute2" >&2; exit 1; }
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    # The address must be unused: refuse to add it where a route already covers it.
    if ip -4 route show | grep -q "^${BRIDGE_ADDR%.*}\."; then
      echo "the address $BRIDGE_ADDR for bridge $BRIDGE is already routed here; set COMFY_PANEL_DOCKERD2_BRIDGE_ADDR to an unused one" >&2
      exit 1
    fi
    ip link add "$BRIDGE" type bridge
    ip addr add "$BRIDGE_ADDR" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
}

case "${1:-}" in
  start)
    if docker version >/dev/null 2>&1; then echo "export $VAR=$DOCKER_HOST"; exit 0; fi
    command -v dockerd >/dev/null || { echo "dockerd not found: apt-get install -y docker.io" >&2; exit 1; }
    ensure_bridge
    mkdir -p "$D/data" "$D/exec"
    if [ "$INSTANCE" = 2 ]; then
      printf '{"deprecated-key-path": "%s/key.json"}\n' "$D" >"$D/daemon.json"
      # dockerd deletes docker0 (whoever owns it) when it starts with --default-address-pool and
      # finds its old default "bridge" network in its store: start engine 2 with a fresh
      # network store every time (its images and containers stay).
      rm -rf "$D/data/network"
    fi
    had_docker0=$(ip link show docker0 >/dev/null 2>&1 && echo yes || echo no)
    nohup dockerd --iptables=false --ip6tables=false --storage-driver=vfs --data-root "$D/data" \
      --exec-root "$D/exec" -H "$DOCKER_HOST" --pidfile "$D/pid" ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"} >"$D/dockerd.log" 2>&1 &
    daemon=$!
    for _ in $(seq 1 60); do
      if docker version >/dev/null 2>&1; then
        if [ "$had_docker0" = yes ] && ! ip link show docker0 >/dev/null 2>&1; then
          echo "starting engine $INSTANCE removed docker0: the first engine's default bridge is gone; stop this engine and recreate docker0" >&2
          exit 1
        fi
        echo "export $VAR=$DOCKER_HOST"; exit 0
      fi
      kill -0 "$daemon" 2>/dev/null || break
      sleep 0.5
    done
    echo "dockerd ($INSTANCE) did not start; last log lines:" >&2; tail -20 "$D/dockerd.log" >&2; exit 1 ;;
  stop)
    if [ -f "$D/pid" ]; then
      pid=$(cat "$D/pid"); kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    # Only the second engine's own bridge is removed; docker0 belongs to the first.
    if [ "$INSTANCE" = 2 ] && ip link show "$BRIDGE" >/dev/null 2>&1; then ip link del "$BRIDGE" 2>/dev/null || true; fi ;;
  status) docker version --format '{{.Server.Version}}' ;;
  *) echo "usage: $0 start|stop|status [1|2]" >&2; exit 2 ;;
esac
