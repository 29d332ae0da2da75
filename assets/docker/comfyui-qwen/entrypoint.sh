#!/bin/sh
# Runs at every container start:
#  1. installs login/PASSWORD from the read-only secret file (COMFYUI_SECRET_FILE), mode 0600,
#     without a trailing newline (ComfyUI-Login reads the file once, when ComfyUI starts);
#  2. with COMFYUI_AUTH_REQUIRED=1 (the image's default) refuses to start unless ComfyUI-Login
#     would enforce a password: the node is there, passed the build's import check for a commit
#     with token support (its version marker), and PASSWORD starts with a bcrypt hash. Without
#     that, ComfyUI serves everyone, or the first visitor to /login chooses the password;
#  3. replaces itself with ComfyUI, extra arguments passed through.
set -eu

ROOT="${COMFYUI_ROOT:-/workspace/ComfyUI}"
LOGIN_DIR="$ROOT/login"
NODE_DIR="$ROOT/custom_nodes/ComfyUI-Login"
MARKER="$NODE_DIR/.comfy-panel-verified"

refuse() {
  echo "[entrypoint] COMFYUI_AUTH_REQUIRED=1 but $1; refusing to start ComfyUI." >&2
  exit 1
}

if [ -n "${COMFYUI_SECRET_FILE:-}" ]; then
  if [ ! -r "$COMFYUI_SECRET_FILE" ] || [ -d "$COMFYUI_SECRET_FILE" ]; then
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
  [ -f "$NODE_DIR/__init__.py" ] || refuse "the ComfyUI-Login node is missing ($NODE_DIR)"
  # Written by check-login-node.py at build time after ComfyUI imported the node and found its
  # token support; a node replaced or mounted later was never checked.
  grep -qx 'tokens=yes' "$MARKER" 2>/dev/null \
    || refuse "$MARKER is missing: this ComfyUI-Login was not verified by the image build (an old recipe, or a node mounted over it); rebuild the image from the recipe"
  [ -f "$LOGIN_DIR/PASSWORD" ] \
    || refuse "$LOGIN_DIR/PASSWORD is missing (the first visitor to /login would choose the password): set COMFYUI_SECRET_FILE to the mounted secret file"
  [ -r "$LOGIN_DIR/PASSWORD" ] || refuse "$LOGIN_DIR/PASSWORD is not readable by uid $(id -u)"
  # The node takes line 1 as the token; an empty line lets `?token=` (empty) through.
  line1=$(head -n 1 "$LOGIN_DIR/PASSWORD")
  case "$line1" in
    \$2[aby]\$[0-9][0-9]\$?????????????????????????????????????????????????????) ;;
    '') refuse "line 1 of $LOGIN_DIR/PASSWORD is empty (an empty ?token= would pass): write the credential's bcrypt hash there (comfy-panel token init)" ;;
    *) refuse "line 1 of $LOGIN_DIR/PASSWORD is not a bcrypt hash (\$2b\$12\$ and 53 characters): write the credential, not the raw password (comfy-panel token init or token import)" ;;
  esac
  echo "[entrypoint] ComfyUI-Login $(sed -n 's/^commit=//p' "$MARKER" | cut -c1-10) verified at build; password set"
fi

cd "$ROOT"
exec python main.py --listen 0.0.0.0 --port 8188 "$@"
