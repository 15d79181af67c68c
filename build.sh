#!/bin/sh
# Builds the sjq command: `./build.sh [OUTPUT]` (default ./sjq), as `make build` runs it.
#
# 1. `deno compile` into one self-contained binary, when Deno can get its runtime
#    (denort: downloaded, or the file DENORT_BIN names).
# 2. Otherwise a launcher: a two-line shell script that runs this checkout's sources
#    with this Deno. It works from any directory and passes arguments, stdin and the
#    exit code through (it execs Deno); it needs this checkout and Deno to stay where
#    they are. --no-config: running sjq needs nothing of deno.json (no import map, no
#    npm settings), and skipping its discovery saves each command about 1 ms.
#
# A compiled program must answer `--version` as sjq does: DENORT_BIN pointing at the
# deno binary itself builds a program that is just Deno, which is not shipped.
#
# DENO names the Deno to use (default: deno on PATH). SJQ_BUILD=launcher skips step 1.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/sjq}
case $out in /*) ;; *) out=$(pwd)/$out ;; esac
deno=${DENO:-deno}
case $deno in
  */*) deno=$(cd "$(dirname "$deno")" && pwd)/$(basename "$deno") ;;
  *) deno=$(command -v "$deno") || { echo "error: no deno on PATH; run 'make deno'" >&2; exit 1; } ;;
esac
version=$(sed -n 's/^export const VERSION = "\(.*\)";$/\1/p' "$here/src/cli/main.ts")
tmp="$out.build.$$"
log="$out.build.$$.log"
trap 'rm -f "$tmp" "$log"' EXIT

# Modules that src/cli/lazy.ts loads by a specifier deno compile cannot see: every
# subcommand, the shepherd, npm:string-width (src/cli/string_width.ts).
set --
for f in "$here"/src/cli/*.ts "$here/src/shepherd.ts"; do
  case $f in *_test.ts) ;; *) set -- "$@" --include "$f" ;; esac
done

why=""
if [ "${SJQ_BUILD:-}" = launcher ]; then
  why="SJQ_BUILD=launcher"
elif ! NO_COLOR=1 "$deno" compile -A --quiet --config "$here/deno.json" "$@" --output "$tmp" "$here/main.ts" >"$log" 2>&1; then
  if grep -q "base binary" "$log"; then
    why="deno compile could not get the Deno runtime (denort): it cannot be downloaded here; set DENORT_BIN to a denort file"
  else
    why="deno compile failed: $(head -n1 "$log")"
  fi
elif [ "$("$tmp" --version 2>/dev/null)" != "sjq $version" ]; then
  # e.g. DENORT_BIN=deno: the runtime ignores the embedded program and runs as Deno.
  why="the compiled program is not sjq (it answers --version with \"$("$tmp" --version 2>&1 | head -n1)\"; is DENORT_BIN a real denort?)"
fi

if [ -z "$why" ]; then
  mv -f "$tmp" "$out"
  echo "built $out: a compiled binary (sjq $version, self-contained)" >&2
  exit 0
fi

q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
cat >"$tmp" <<EOF
#!/bin/sh
# sjq launcher made by 'make build': runs the sources in $here with Deno $("$deno" --version | head -n1 | cut -d' ' -f2).
exec $(q "$deno") run -A --quiet --no-prompt --no-config $(q "$here/main.ts") "\$@"
EOF
chmod 0755 "$tmp"
mv -f "$tmp" "$out"
echo "built $out: a launcher for the sources in $here (no compiled binary: $why)" >&2
