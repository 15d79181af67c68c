#!/bin/sh
# Installs a built ./sjq into $PREFIX/bin: /usr/local/bin as root, ~/.local/bin otherwise.
# Build it first with `make build`.
set -eu
cd "$(dirname "$0")"
if [ ! -x ./sjq ]; then
  echo "error: no ./sjq binary here; build it first with 'make build'" >&2
  exit 1
fi
if [ -z "${PREFIX:-}" ]; then
  if [ "$(id -u)" -eq 0 ]; then PREFIX=/usr/local; else PREFIX=$HOME/.local; fi
fi
mkdir -p "$PREFIX/bin"
install -m 0755 ./sjq "$PREFIX/bin/sjq"
echo "installed $PREFIX/bin/sjq" >&2
case ":$PATH:" in
  *":$PREFIX/bin:"*) ;;
  *) echo "note: $PREFIX/bin is not on your PATH" >&2 ;;
esac
