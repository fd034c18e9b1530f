#!/bin/bash
# Builds ergo, the IRCv3 reference server (github.com/ergochat/ergo, v2.11.1, MIT), from the source
# tarball beside this script with its vendored Go modules and Debian's Go 1.19: nothing is downloaded
# but the golang-go package. Debian's own package named "ergo" is an unrelated chemistry program, and
# ergo 2.12+ needs Go >= 1.21. Usage: build.sh OUTDIR — prints the binary's path (OUTDIR/ergo); an
# existing binary there is reused. OUTDIR/default.yaml is the tarball's full default configuration,
# which the test launcher (../ergo.ts) starts from.
set -e
H=$(cd "$(dirname "$0")" && pwd)
B=${1:?usage: build.sh OUTDIR}
mkdir -p "$B"
exec 9>"$B/lock"; flock 9
if [ ! -x "$B/ergo" ]; then
  command -v go >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null 2>&1
  command -v go >/dev/null || { echo "no Go toolchain (apt-get install golang-go)" >&2; exit 1; }
  rm -rf "$B/src"; mkdir -p "$B/src"
  tar xzf "$H/ergo-2.11.1-src.tar.gz" -C "$B/src"
  (cd "$B/src/ergo-2.11.1" && CGO_ENABLED=0 GOFLAGS=-mod=vendor GOCACHE="$B/gocache" GOPATH="$B/gopath" \
     go build -trimpath -ldflags='-s -w' -o "$B/ergo.tmp" .) >"$B/build.log" 2>&1 || { tail -20 "$B/build.log" >&2; exit 1; }
  rm -rf "$B/gocache" "$B/gopath" "$B/src"
  mv "$B/ergo.tmp" "$B/ergo"
fi
if [ ! -f "$B/default.yaml" ]; then
  tar xzf "$H/ergo-2.11.1-src.tar.gz" -O ergo-2.11.1/default.yaml >"$B/default.yaml.tmp"
  mv "$B/default.yaml.tmp" "$B/default.yaml"
fi
echo "$B/ergo"
