#!/usr/bin/env bash
# Installs sheep-xl and the SheepCRM Excel add-in for the current user on a Mac.
#
#   bash install.sh [--source PATH_OR_NAME] [--venv DIR] [--python PYTHON] [--target DIR]
#
# Safe to run again: it reuses the environment and upgrades sheep-xl in place.
# It never asks for your SheepCRM API key: sign in from the SheepCRM tab in Excel afterwards.

set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source_spec="$(cd "$script_dir/.." && pwd)"
# No spaces in this path: Excel on a Mac starts Python through xlwings' AppleScript helper, which
# does not quote the Python path (so "~/Library/Application Support/..." would not work).
venv_dir="${SHEEP_XL_VENV:-$HOME/.sheep-xl/venv}"
python_cmd="${SHEEP_XL_PYTHON:-}"
target=""

say() {
    printf '\n==> %s\n' "$*"
}

fail() {
    printf '\nERROR: %s\n' "$*" >&2
    exit 1
}

usage() {
    cat <<EOF
Installs sheep-xl and the SheepCRM Excel add-in for the current user on a Mac.

Options:
  --source PATH_OR_NAME  what to install: a folder, a wheel file or a package name
                         (default: $source_spec)
  --venv DIR             where to keep sheep-xl's own Python environment
                         (default: $venv_dir; must not contain spaces)
  --python PYTHON        the Python 3.11+ to build the environment from (default: found)
  --target DIR           put the add-in and its settings in DIR instead of Excel's folders
                         (for testing)
EOF
}

needs_value() {
    if [ "$#" -lt 2 ] || [ -z "$2" ]; then
        fail "$1 needs a value (see --help)."
    fi
}

while [ "$#" -gt 0 ]; do
    case "$1" in
        --source) needs_value "$@"; source_spec="$2"; shift 2 ;;
        --venv) needs_value "$@"; venv_dir="$2"; shift 2 ;;
        --python) needs_value "$@"; python_cmd="$2"; shift 2 ;;
        --target) needs_value "$@"; target="$2"; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) fail "Unknown option '$1' (see --help)." ;;
    esac
done

if [ "$(uname -s)" != "Darwin" ] && [ -z "$target" ]; then
    fail "This installer is for macOS; on Windows use install.ps1 instead."
fi
case "$venv_dir" in
    *[[:space:]]*)
        fail "The folder '$venv_dir' contains a space, and Excel on a Mac cannot start Python from there; choose another folder with --venv."
        ;;
esac

python_ok() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

find_python() {
    local candidate
    if [ -n "$python_cmd" ]; then
        if command -v "$python_cmd" >/dev/null 2>&1 && python_ok "$python_cmd"; then
            command -v "$python_cmd"
            return 0
        fi
        return 1
    fi
    for candidate in python3.14 python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

say "Step 1 of 5: Looking for Python 3.11 or newer."
echo "sheep-xl is written in Python, so it needs a recent Python to run."
if ! base_python="$(find_python)"; then
    fail "Python 3.11 or newer was not found; install it from https://www.python.org/downloads/macos/ (or with Homebrew: brew install python) and run this installer again."
fi
echo "Using $base_python ($("$base_python" --version 2>&1))."

say "Step 2 of 5: Preparing sheep-xl's own Python environment in $venv_dir."
echo "It keeps sheep-xl and the tools it uses apart from everything else on this Mac."
venv_python="$venv_dir/bin/python"
if [ -x "$venv_python" ] && "$venv_python" -c 'import sys' >/dev/null 2>&1; then
    echo "The environment already exists; reusing it."
else
    mkdir -p "$(dirname "$venv_dir")"
    "$base_python" -m venv --clear "$venv_dir"
    echo "Created the environment."
fi

say "Step 3 of 5: Installing (or upgrading) sheep-xl from $source_spec."
echo "This downloads sheep-xl's helpers (xlwings, pandas and others) and can take a few minutes."
if [ -d "$source_spec" ] && [ ! -f "$source_spec/pyproject.toml" ]; then
    fail "$source_spec does not contain sheep-xl; pass --source with the sheep-xl folder or package name."
fi
"$venv_python" -m pip install --disable-pip-version-check --upgrade pip
"$venv_python" -m pip install --disable-pip-version-check --upgrade "$source_spec"

sheep_xl="$venv_dir/bin/sheep-xl"
if [ ! -x "$sheep_xl" ]; then
    fail "sheep-xl did not install correctly (no $sheep_xl); check that --source points at sheep-xl."
fi
say "Step 4 of 5: Adding the SheepCRM add-in to Excel."
echo "This copies the add-in into Excel's startup folder and tells it which Python to use."
echo "Please quit Excel (Cmd-Q) before continuing, if it is open."
addin_args=(addin install)
if [ -n "$target" ]; then
    addin_args+=(--target "$target")
fi
"$sheep_xl" "${addin_args[@]}"

say "Step 5 of 5: Checking the installation (sheep-xl doctor)."
echo "This shows the versions installed and tests the connection to SheepCRM."
if ! "$sheep_xl" doctor; then
    echo
    echo "The check above reported a problem. If it only says that you are not signed in yet,"
    echo "that is expected: signing in is the next step."
fi

# The Sign in and Insert events dialogs are tkinter windows; some Pythons (Homebrew's) ship
# without it. Without tkinter the Events table button falls back to one question at a time.
if ! "$venv_python" -c 'import tkinter' >/dev/null 2>&1; then
    echo
    echo "Note: this Python has no tkinter, which the Sign in and Insert events dialogs need."
    echo "Install the python.org Python for macOS (it includes tkinter), or with Homebrew run"
    echo "'brew install python-tk', then run this installer again (with --python if needed)."
fi

say "Done."
echo "Next: open Excel, go to the SheepCRM tab and click 'Sign in' to enter your API key."
echo "This installer never asks for your key; Excel's Sign in keeps it in your Mac's keychain."
echo "To remove the add-in later: \"$sheep_xl\" addin remove"
