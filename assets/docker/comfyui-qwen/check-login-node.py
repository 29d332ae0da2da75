"""Build-time check: ComfyUI loads ComfyUI-Login and the node enforces tokens.

Run with the image's Python from the ComfyUI root:  python check-login-node.py <commit>
ComfyUI itself only logs "IMPORT FAILED" for a node that does not import and then serves
without authentication (e.g. `Crypto` missing where only `Cryptodome` is installed), so
the image build must fail instead. On success it writes the version marker
custom_nodes/ComfyUI-Login/.comfy-panel-verified that the entrypoint requires.
"""
import asyncio
import inspect
import os
import sys

ROOT = os.environ.get("COMFYUI_ROOT", os.getcwd())
NODE_DIR = os.path.join(ROOT, "custom_nodes", "ComfyUI-Login")
MARKER = os.path.join(NODE_DIR, ".comfy-panel-verified")
SECRET_KEY = os.path.join(NODE_DIR, ".secret-key.txt")


def fail(message):
    print(f"[check-login-node] {message}", file=sys.stderr)
    sys.exit(1)


if len(sys.argv) != 2:
    fail("usage: check-login-node.py <ComfyUI-Login commit>")
commit = sys.argv[1]
if not os.path.isfile(os.path.join(NODE_DIR, "__init__.py")):
    fail(f"{NODE_DIR}/__init__.py is missing: the node was not installed")

# Parse ComfyUI's own arguments the way main.py does; --cpu because build hosts have no GPU.
os.chdir(ROOT)
sys.path.insert(0, ROOT)
sys.argv = [sys.argv[0], "--cpu"]
import comfy.options  # noqa: E402

comfy.options.enable_args_parsing()
import server  # noqa: E402
import nodes  # noqa: E402

loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
prompt_server = server.PromptServer(loop)  # the node attaches its routes and middleware to this instance

# ComfyUI's own loader: it catches the import error, prints the traceback and returns False.
loaded = nodes.load_custom_node(NODE_DIR)
if inspect.isawaitable(loaded):
    loaded = loop.run_until_complete(loaded)
if not loaded:
    fail("ComfyUI could not import ComfyUI-Login (traceback above); install its requirements "
         "(pip install -r custom_nodes/ComfyUI-Login/requirements.txt) with this Python")

guards = [m for m in prompt_server.app.middlewares if getattr(m, "__name__", "") == "check_login_status"]
if not guards:
    fail("ComfyUI-Login loaded but added no check_login_status middleware: this commit would not protect the server")
# Token support (Bearer and ?token=) came with load_token(); older commits answer tokens with 302 to /login.
if "load_token" not in guards[0].__globals__:
    fail(f"ComfyUI-Login {commit} has no token support: it answers API tokens with a redirect to /login")

# Importing the node created a session key; one baked into the image would be shared by every container.
if os.path.exists(SECRET_KEY):
    os.remove(SECRET_KEY)
with open(MARKER, "w", encoding="utf-8") as f:
    f.write(f"commit={commit}\ntokens=yes\n")
print(f"[check-login-node] ComfyUI-Login {commit} imports and enforces tokens")
