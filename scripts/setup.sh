#!/usr/bin/env bash
# Skipwire set-up, shared by scripts/app and scripts/test. Idempotent: a second run with the
# same pyproject.toml and this script does nothing (a stamp in .venv holds their hash).
#
#   1. the Debian packages Qt needs (apt-get as root, or sudo; otherwise print the apt line)
#   2. .venv (installing python3-venv first when Debian lacks it)
#   3. torch 2.13.0 (the CPU wheel; a local one from $SKIPWIRE_WHEELS is preferred)
#   4. skipwire itself, editable, with its gui, onnx and dev extras
#
# Environment: PYTHON (default python3), SKIPWIRE_VENV (default .venv in the repository),
# SKIPWIRE_WHEELS (folder with a local torch wheel, default /opt/wheels).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SKIPWIRE_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
WHEELS="${SKIPWIRE_WHEELS:-/opt/wheels}"
TORCH_VERSION="2.13.0"
STAMP="$VENV/.skipwire-setup-stamp"
QT_DEBS=(libglib2.0-0 libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
         libxcb-cursor0 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxcb-icccm4
         libxcb-keysyms1 xauth)

say() { echo "setup: $*" >&2; }

# Run a command with its output in a log; show the log's tail only when it fails.
quietly() {
    local log status=0
    log="$(mktemp)"
    "$@" >"$log" 2>&1 || status=$?
    if [ "$status" != 0 ]; then
        tail -n 40 "$log" >&2
        say "failed ($status): $*"
    fi
    rm -f "$log"
    return "$status"
}

stamp_key() {
    cat "$ROOT/pyproject.toml" "$ROOT/scripts/setup.sh" | sha256sum | cut -d' ' -f1
}

# Debian packages from the list that are not installed (a "t64" rename counts as installed).
missing_debs() {
    command -v dpkg-query >/dev/null || return 0  # not Debian: nothing we can check
    local pkg
    for pkg in "$@"; do
        { dpkg-query -W -f='${Status}\n' "$pkg" "${pkg}t64" 2>/dev/null || true; } \
            | grep -q 'ok installed' || echo "$pkg"
    done
}

# The command prefix that may run apt-get here: "" as root, "sudo" where sudo works, else fail.
apt_prefix() {
    if [ "$(id -u)" = 0 ]; then
        echo ""
    elif command -v sudo >/dev/null && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
        echo "sudo"
    else
        return 1
    fi
}

# Install Debian packages, or print the exact apt line and return 1.
apt_install() {
    local prefix
    if ! prefix="$(apt_prefix)"; then
        say "missing Debian packages: $*"
        say "run:  sudo apt-get update && sudo apt-get install -y $*"
        return 1
    fi
    say "installing Debian packages: $*"
    quietly $prefix env DEBIAN_FRONTEND=noninteractive apt-get update
    quietly $prefix env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

system_packages() {
    local missing
    missing="$(missing_debs "${QT_DEBS[@]}" | tr '\n' ' ')"
    if [ -n "${missing// /}" ]; then
        # shellcheck disable=SC2086  # one word per package
        apt_install $missing || { say "the app and GUI tests need these packages; continuing"; return 1; }
    fi
}

make_venv() {
    [ -x "$VENV/bin/python" ] && return 0
    say "creating $VENV"
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        # Debian's python3 lacks ensurepip until python3-venv is installed.
        apt_install python3-venv || exit 1
        "$PYTHON" -m venv "$VENV"
    fi
}

torch_installed() {
    "$VENV/bin/python" - "$TORCH_VERSION" <<'PY'
import sys
from importlib import metadata
try:
    version = metadata.version("torch")
except metadata.PackageNotFoundError:
    sys.exit(1)
sys.exit(0 if version.split("+")[0] == sys.argv[1] else 1)
PY
}

install_python_packages() {
    local pip=("$VENV/bin/python" -m pip --disable-pip-version-check)
    if ! torch_installed; then
        # The CPU wheel first: a bare "pip install torch" would pull gigabytes of CUDA libraries.
        local tag wheel
        tag="$("$VENV/bin/python" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')"
        wheel="$(ls "$WHEELS"/torch-"$TORCH_VERSION"+cpu-"$tag"-*.whl 2>/dev/null | head -n1 || true)"
        say "installing torch $TORCH_VERSION ${wheel:+from $wheel}"
        quietly "${pip[@]}" install "${wheel:-torch==$TORCH_VERSION}"
    fi
    say "installing skipwire[gui,onnx,dev] (editable)"
    # PySide6 6.12.0 drops a reference to None on every void call under Python 3.11 (None is
    # not immortal before 3.12): the GUI aborts with "none_dealloc". 6.11.3 does not.
    (cd "$ROOT" && quietly "${pip[@]}" install -e '.[gui,onnx,dev]' 'pyside6-essentials!=6.12.0' \
        'shiboken6!=6.12.0')
}

main() {
    if [ -f "$STAMP" ] && [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP")" = "$(stamp_key)" ]; then
        return 0  # already set up for this pyproject.toml and this script
    fi
    local complete=1
    system_packages || complete=0
    make_venv
    install_python_packages
    if [ "$complete" = 1 ]; then
        stamp_key >"$STAMP"
        say "done ($VENV)"
    else
        say "python packages done; run this again after installing the Debian packages above"
    fi
}

main "$@"
