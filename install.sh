#!/bin/sh
# Installs ./sjq into $PREFIX/bin: /usr/local/bin as root, ~/.local/bin otherwise.
# Build it first with `make build` (`make install` does): either a compiled binary,
# which is self-contained, or a launcher, which runs this checkout's sources and so
# needs the checkout to stay where it is.
set -eu
cd "$(dirname "$0")"
if [ ! -x ./sjq ]; then
  echo "error: no ./sjq here; build it first with 'make build'" >&2
  exit 1
fi
if [ -z "${PREFIX:-}" ]; then
  if [ "$(id -u)" -eq 0 ]; then PREFIX=/usr/local; else PREFIX=$HOME/.local; fi
fi
mkdir -p "$PREFIX/bin"
install -m 0755 ./sjq "$PREFIX/bin/sjq"
if head -c 2 ./sjq | grep -q '^#!'; then
  echo "installed $PREFIX/bin/sjq: a launcher of the sources in $(pwd) (keep them there)" >&2
else
  echo "installed $PREFIX/bin/sjq: a compiled binary" >&2
fi
case ":$PATH:" in
  *":$PREFIX/bin:"*) ;;
  *) echo "note: $PREFIX/bin is not on your PATH" >&2 ;;
esac
