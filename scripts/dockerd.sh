#!/usr/bin/env bash
# Starts or stops a private Docker engine for tests (CI machines have only the client).
# Usage: scripts/dockerd.sh start|stop|status   Prints `export DOCKER_HOST=...` on start.
set -euo pipefail
D="${COMFY_PANEL_DOCKERD_DIR:-/tmp/comfy-panel-dockerd}"
SOCK="$D/docker.sock"
export DOCKER_HOST="unix://$SOCK"

case "${1:-}" in
  start)
    if docker version >/dev/null 2>&1; then echo "export DOCKER_HOST=$DOCKER_HOST"; exit 0; fi
    command -v dockerd >/dev/null || { echo "dockerd not found: apt-get install -y docker.io" >&2; exit 1; }
    mkdir -p "$D/data" "$D/exec"
    nohup dockerd --iptables=false --ip6tables=false --storage-driver=vfs --data-root "$D/data" \
      --exec-root "$D/exec" -H "$DOCKER_HOST" --pidfile "$D/pid" >"$D/dockerd.log" 2>&1 &
    for _ in $(seq 1 60); do
      docker version >/dev/null 2>&1 && { echo "export DOCKER_HOST=$DOCKER_HOST"; exit 0; }
      sleep 0.5
    done
    echo "dockerd did not start; last log lines:" >&2; tail -20 "$D/dockerd.log" >&2; exit 1 ;;
  stop)
    [ -f "$D/pid" ] || exit 0
    pid=$(cat "$D/pid"); kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true ;;
  status) docker version --format '{{.Server.Version}}' ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
