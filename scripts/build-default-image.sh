#!/usr/bin/env bash
# Builds KLong's default sandbox image offline from Debian packages (no registry needed):
# debootstrap a minimal bookworm rootfs, trim it, `docker import` it.
#
#   scripts/build-default-image.sh            -> klong/python:bookworm (python3 + numpy/scipy/pandas/sklearn/matplotlib)
#   scripts/build-default-image.sh --minimal  -> klong/python-min:bookworm (python3 + git only; fast, for tests)
#   --force                                    rebuild the image even if it exists (the rootfs cache is reused)
#   --no-cache                                 ignore the cached rootfs tarball too
#
# The trimmed rootfs is cached as ${KLONG_CACHE:-$HOME/.cache/klong}/rootfs-<name>-<hash>.tar.zst, so a rebuild
# after `docker rmi` (or on a fresh dockerd) takes seconds. The Debian mirror is read at run time from the
# machine's apt configuration; set KLONG_DEBIAN_MIRROR to override it.
set -euo pipefail

flavour=default
force=0
use_cache=1
for arg in "$@"; do
  case "$arg" in
    --minimal) flavour=minimal ;;
    --force) force=1 ;;
    --no-cache) use_cache=0; force=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "build-default-image: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done

suite=bookworm
base_pkgs=python3,python3-venv,python3-pip,git,ca-certificates,procps,less,xz-utils,bzip2,unzip
if [ "$flavour" = minimal ]; then
  image="${KLONG_IMAGE:-klong/python-min:bookworm}"
  pkgs=python3,git,ca-certificates
else
  image="${KLONG_IMAGE:-klong/python:bookworm}"
  pkgs="$base_pkgs,python3-numpy,python3-scipy,python3-pandas,python3-sklearn,python3-matplotlib"
fi

log() { printf '[build-default-image] %s\n' "$*" >&2; }
die() { printf '[build-default-image] error: %s\n' "$*" >&2; exit 1; }

command -v docker >/dev/null || die "docker is not installed (Debian: apt-get install docker.io)"
docker info >/dev/null 2>&1 || die "the Docker daemon does not answer (start dockerd, or check DOCKER_HOST and socket permissions)"

if [ "$force" = 0 ] && docker image inspect "$image" >/dev/null 2>&1; then
  log "$image already exists; nothing to do (use --force to rebuild)"
  exit 0
fi

cache_dir="${KLONG_CACHE:-$HOME/.cache/klong}"
mkdir -p "$cache_dir"
cache_dir="$(cd "$cache_dir" && pwd)"
# The cache key covers what changes the rootfs: suite, package list, and trim_version (bump it when the
# trim steps below change).
trim_version=1
key="$(printf '%s\n%s\n%s\n' "$suite" "$pkgs" "$trim_version" | sha256sum | cut -c1-12)"
tarball="$cache_dir/rootfs-${flavour}-${suite}-${key}.tar.zst"

import_tarball() {
  log "importing $tarball as $image"
  zstd -dc -q "$tarball" | docker import \
    -c 'ENV LANG=C.UTF-8' \
    -c 'WORKDIR /workspace' \
    -c 'LABEL org.klong.image=default' \
    -c 'CMD ["/bin/bash"]' \
    - "$image" >/dev/null
  log "done: $(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}') $image"
}

if [ "$use_cache" = 1 ] && [ -s "$tarball" ]; then
  import_tarball
  exit 0
fi

# --- debootstrap (needs root) ---
[ "$(id -u)" = 0 ] || die "debootstrap needs root: run this script with sudo (the cached rootfs is then reused)"
command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
command -v zstd >/dev/null || die "zstd is not installed (apt-get install zstd)"

# Mirror: the machine's own apt configuration (deb822 `URIs:` first, then one-line sources.list), never hard-coded.
mirror="${KLONG_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # The first URIs: line of a stanza for the main archive (not the security archive).
    mirror="$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")"
    [ -n "$mirror" ] && break
  done
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror="$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) { print $i; exit } }' /etc/apt/sources.list)"
fi
[ -n "$mirror" ] || die "no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list; set KLONG_DEBIAN_MIRROR"

work="$(mktemp -d "${TMPDIR:-/tmp}/klong-rootfs.XXXXXX")"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
rootfs="$work/rootfs"
debs="$cache_dir/debs-$suite"
mkdir -p "$debs"

log "debootstrap $suite ($flavour) from the configured mirror; this takes 1-2 minutes the first time"
start=$(date +%s)
if ! debootstrap --variant=minbase --include="$pkgs" --cache-dir="$debs" "$suite" "$rootfs" "$mirror" \
    >"$work/debootstrap.log" 2>&1; then
  tail -n 30 "$work/debootstrap.log" >&2
  [ -f "$rootfs/debootstrap/debootstrap.log" ] && tail -n 30 "$rootfs/debootstrap/debootstrap.log" >&2
  die "debootstrap failed (see above); check that the mirror is reachable"
fi
log "debootstrap took $(( $(date +%s) - start )) s"

# --- trim: docs, man pages, locales, apt caches; keep copyright files out too (they are in the .debs) ---
rm -rf "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
  "$rootfs"/usr/share/lintian "$rootfs"/usr/share/linda \
  "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs"/debootstrap
find "$rootfs"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true
# Later `apt-get install` in the container keeps the image lean the same way.
mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d"
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/01-klong-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
mkdir -p "$rootfs/workspace"
# The container has no hostname of the build machine.
: >"$rootfs/etc/hostname"

log "writing $tarball"
tar --numeric-owner -C "$rootfs" -cf - . | zstd -T0 -3 -q -o "$tarball.partial"
mv "$tarball.partial" "$tarball"
# Older tarballs of this flavour are stale.
find "$cache_dir" -maxdepth 1 -name "rootfs-${flavour}-${suite}-*.tar.zst" ! -name "$(basename "$tarball")" -delete

import_tarball
