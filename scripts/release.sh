#!/usr/bin/env bash
# Registry release artifacts in dist/ (`make release`):
#
#   terraform-provider-aqemia_<version>_linux_amd64.zip   binary terraform-provider-aqemia_v<version> at the root
#   terraform-provider-aqemia_<version>_linux_arm64.zip   the same, when an arm64 build can be had here
#   terraform-provider-aqemia_<version>_manifest.json     announces plugin protocol 5.0
#   terraform-provider-aqemia_<version>_SHA256SUMS        sha256sum lines for all of the above, sorted
#
# Release builds never enable the `conformance` feature. Zip entries carry a fixed time
# (SOURCE_DATE_EPOCH, default: the last commit's time) and no owner or extra fields.
#
# arm64 needs the rustup target aarch64-unknown-linux-gnu and Debian's gcc-aarch64-linux-gnu;
# this script tries to add both and otherwise skips arm64 with a message. AQEMIA_RELEASE_ARM64:
# auto (default), 1 (arm64 is required: its failure fails the release), 0 (don't try).
# DIST_DIR overrides dist/.
#
# Options:
#   --out DIR        write the artifacts to DIR instead of dist/
#   --package BIN    don't build: package BIN as is (its platform read from its ELF header),
#                    for tests that check the packaging of a binary they already built.
#                    May be given once per platform. The conformance check does not apply.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

crate=terraform-provider-aqemia
version="$(awk '/^\[/{section=$0} section=="[workspace.package]" && $1=="version" {gsub(/"/, "", $3); print $3; exit}' Cargo.toml)"
[[ -n "$version" ]] || { echo "release: no [workspace.package] version in Cargo.toml" >&2; exit 1; }
dist="${DIST_DIR:-$root/dist}"
prebuilt=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) [[ $# -ge 2 ]] || { echo "release: --out needs a directory" >&2; exit 2; }; dist="$2"; shift 2 ;;
    --package) [[ $# -ge 2 ]] || { echo "release: --package needs a binary" >&2; exit 2; }; prebuilt+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "release: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
arm64_mode="${AQEMIA_RELEASE_ARM64:-auto}"
if [[ -z "${SOURCE_DATE_EPOCH:-}" ]]; then
  SOURCE_DATE_EPOCH="$(git log -1 --format=%ct 2>/dev/null || true)"
  SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-315532800}" # 1980-01-01, the earliest zip time
fi
export SOURCE_DATE_EPOCH

say() { printf '[release] %s\n' "$*" >&2; }
die() { printf '[release] ERROR: %s\n' "$*" >&2; exit 1; }

# Checks that a release build can't carry the test-only resources; sets target_dir.
prepare_build() {
  local metadata
  metadata="$(cargo metadata --format-version 1 --no-deps)"
  # The conformance resources are test-only: refuse to release if a default feature pulls them in.
  python3 -c '
import json, sys
crate = sys.argv[1]
meta = json.load(sys.stdin)
pkg = next(p for p in meta["packages"] if p["name"] == crate)
features = pkg["features"]
seen, todo = set(), list(features.get("default", []))
while todo:
    f = todo.pop()
    if f not in seen:
        seen.add(f)
        todo.extend(x for x in features.get(f, []) if not x.startswith("dep:") and "/" not in x)
sys.exit(1 if "conformance" in seen else 0)
' "$crate" <<<"$metadata" || die "the default features of $crate enable 'conformance'"
  target_dir="$(python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])' <<<"$metadata")"

  # No absolute paths of this machine in the binaries.
  local cargo_home="${CARGO_HOME:-$HOME/.cargo}"
  export RUSTFLAGS="${RUSTFLAGS:-} --remap-path-prefix=$root=/build --remap-path-prefix=$cargo_home=/cargo"
}

build() { # rust-triple
  say "cargo build --release --locked -p $crate --target $1"
  cargo build --release --locked -p "$crate" --target "$1"
}

elf_machine() { # path -> x86_64 | aarch64 | other
  python3 -c '
import struct, sys
with open(sys.argv[1], "rb") as f:
    head = f.read(20)
machine = struct.unpack_from("<H", head, 18)[0] if head[:4] == b"\x7fELF" else None
print({0x3E: "x86_64", 0xB7: "aarch64"}.get(machine, "other"))
' "$1"
}

# Tries to make an aarch64 build possible here; prints why not on failure.
arm64_toolchain() {
  if ! rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
    command -v rustup >/dev/null 2>&1 || { say "arm64: rustup is not installed"; return 1; }
    say "arm64: rustup target add aarch64-unknown-linux-gnu"
    rustup target add aarch64-unknown-linux-gnu >&2 || { say "arm64: rustup could not add the target"; return 1; }
  fi
  if ! command -v aarch64-linux-gnu-gcc >/dev/null 2>&1; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
      say "arm64: apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
      local pkgs=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2 ||
        { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2; } ||
        { say "arm64: the cross linker could not be installed"; return 1; }
    else
      say "arm64: no aarch64-linux-gnu-gcc (Debian: apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross)"
      return 1
    fi
  fi
  export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
  export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
  export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
}

zip_binary() { # binary zip-path
  local binary="$1" out="$2" stage entry="${crate}_v${version}"
  stage="$(mktemp -d)"
  install -m 0755 "$binary" "$stage/$entry"
  touch -d "@$SOURCE_DATE_EPOCH" "$stage/$entry"
  rm -f "$out"
  # Always Python's zipfile, never the zip CLI: the bytes must not depend on what this
  # machine happens to have installed.
  python3 - "$stage/$entry" "$out" "$entry" <<'PY'
import os, sys, time, zipfile
src, out, name = sys.argv[1:]
epoch = max(int(os.environ["SOURCE_DATE_EPOCH"]), 315532800)
info = zipfile.ZipInfo(name, date_time=time.gmtime(epoch)[:6])
info.create_system = 3  # unix, so the mode below is honoured
info.external_attr = 0o100755 << 16
info.compress_type = zipfile.ZIP_DEFLATED
with open(src, "rb") as f, zipfile.ZipFile(out, "w") as z:
    z.writestr(info, f.read(), compresslevel=9)
PY
  rm -rf "$stage"
}

mkdir -p "$dist"
dist="$(cd "$dist" && pwd)"
rm -f "$dist/${crate}_${version}_"*
zips=()

if [[ ${#prebuilt[@]} -gt 0 ]]; then
  arm64_result="not built (packaging given binaries)"
  for binary in "${prebuilt[@]}"; do
    [[ -f "$binary" ]] || die "--package $binary: no such file"
    case "$(elf_machine "$binary")" in
      x86_64) platform=linux_amd64 ;;
      aarch64) platform=linux_arm64; arm64_result="packaged" ;;
      *) die "--package $binary: not an x86_64 or aarch64 ELF binary" ;;
    esac
    zip_binary "$binary" "$dist/${crate}_${version}_${platform}.zip"
    zips+=("${crate}_${version}_${platform}.zip")
  done
else
  prepare_build
  build x86_64-unknown-linux-gnu
  amd64_bin="$target_dir/x86_64-unknown-linux-gnu/release/$crate"
  [[ "$(elf_machine "$amd64_bin")" == x86_64 ]] || die "$amd64_bin is not an x86_64 ELF binary"
  zip_binary "$amd64_bin" "$dist/${crate}_${version}_linux_amd64.zip"
  zips+=("${crate}_${version}_linux_amd64.zip")

  arm64_result="not attempted (AQEMIA_RELEASE_ARM64=0)"
  if [[ "$arm64_mode" != 0 ]]; then
    if arm64_toolchain && build aarch64-unknown-linux-gnu; then
      arm64_bin="$target_dir/aarch64-unknown-linux-gnu/release/$crate"
      [[ "$(elf_machine "$arm64_bin")" == aarch64 ]] || die "$arm64_bin is not an aarch64 ELF binary"
      zip_binary "$arm64_bin" "$dist/${crate}_${version}_linux_arm64.zip"
      zips+=("${crate}_${version}_linux_arm64.zip")
      arm64_result="built"
    else
      [[ "$arm64_mode" == 1 ]] && die "linux_arm64 could not be built and AQEMIA_RELEASE_ARM64=1"
      arm64_result="SKIPPED: no aarch64 toolchain or build here (see above)"
      say "linux_arm64 $arm64_result"
    fi
  fi
fi

manifest="${crate}_${version}_manifest.json"
printf '%s\n' '{"version": 1, "metadata": {"protocol_versions": ["5.0"]}}' >"$dist/$manifest"

sums="${crate}_${version}_SHA256SUMS"
(cd "$dist" && sha256sum -- "${zips[@]}" "$manifest" | LC_ALL=C sort -k2 >"$sums")

echo "Release $version in $dist (linux_arm64: $arm64_result):"
(cd "$dist" && ls -l -- "${zips[@]}" "$manifest" "$sums" | awk '{print "  " $5 "\t" $NF}')
echo "$sums:"
sed 's/^/  /' "$dist/$sums"
