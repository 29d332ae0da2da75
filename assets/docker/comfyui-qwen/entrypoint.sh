#!/bin/sh
# Runs at every container start:
#  1. installs login/PASSWORD from the read-only secret file (COMFYUI_SECRET_FILE), mode 0600,
#     without a trailing newline (ComfyUI-Login reads the file once, when ComfyUI starts);
#  2. refuses to start when COMFYUI_AUTH_REQUIRED=1 but the login node or the password is missing
#     (the original outage: the config said "auth on" while the node was absent);
#  3. replaces itself with ComfyUI, extra arguments passed through.
set -eu

ROOT="${COMFYUI_ROOT:-/workspace/ComfyUI}"
LOGIN_DIR="$ROOT/login"
NODE_DIR="$ROOT/custom_nodes/ComfyUI-Login"

if [ -n "${COMFYUI_SECRET_FILE:-}" ]; then
  if [ ! -r "$COMFYUI_SECRET_FILE" ]; then
    echo "[entrypoint] COMFYUI_SECRET_FILE=$COMFYUI_SECRET_FILE is missing or not readable by uid $(id -u); mount the secret file there read-only, readable by this user" >&2
    exit 1
  fi
  mkdir -p "$LOGIN_DIR"
  umask 077
  tmp="$LOGIN_DIR/.PASSWORD.$$"
  # $(cat) drops every trailing newline and keeps the one between hash and user name.
  printf '%s' "$(cat "$COMFYUI_SECRET_FILE")" > "$tmp"
  chmod 0600 "$tmp"
  mv -f "$tmp" "$LOGIN_DIR/PASSWORD"
  echo "[entrypoint] login/PASSWORD installed from $COMFYUI_SECRET_FILE"
fi

if [ "${COMFYUI_AUTH_REQUIRED:-0}" = "1" ]; then
  if [ ! -f "$NODE_DIR/__init__.py" ]; then
    echo "[entrypoint] COMFYUI_AUTH_REQUIRED=1 but the ComfyUI-Login node is missing ($NODE_DIR): refusing to serve ComfyUI without authentication." >&2
    exit 1
  fi
  if [ ! -s "$LOGIN_DIR/PASSWORD" ]; then
    # Without a PASSWORD file ComfyUI-Login lets the first visitor choose the password.
    echo "[entrypoint] COMFYUI_AUTH_REQUIRED=1 but $LOGIN_DIR/PASSWORD is missing: set COMFYUI_SECRET_FILE to the mounted secret; refusing to start." >&2
    exit 1
  fi
fi

cd "$ROOT"
exec python main.py --listen 0.0.0.0 --port 8188 "$@"
