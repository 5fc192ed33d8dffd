# Building Go tools from the Go module proxy, shared by install-tools.sh and k8s-testbed.sh.
# Sourced, not run. Functions return non-zero on failure and leave the verdict (warn or die)
# to the caller; the go command's output goes where the caller redirects it.

# A field of a JSON object given as text: `go mod download -json` output, a module's .info.
go_json_field() { # json-text field
  python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"
}

# Copies module@version from the module cache (downloading it first) into dest, writable,
# and prints the path of the module's .info file (its Time dates pseudo-versions).
go_module_copy() { # module version dest
  local module="$1" version="$2" dest="$3" json
  json="$(cd / && GOFLAGS= GOWORK=off go mod download -json "$module@$version")" || return 1
  rm -rf "$dest"
  mkdir -p "$(dirname "$dest")"
  cp -r "$(go_json_field "$json" Dir)" "$dest" || return 1
  chmod -R u+w "$dest"
  go_json_field "$json" Info
}

# go.mod points the modules of the same repository at sibling directories (Kubernetes'
# staging modules, etcd's api, client and pkg), which the proxy's zip of one module leaves out.
# Each of them is published on its own at the release's version: require that instead.
go_rewrite_local_replaces() { # src version-of-the-siblings
  local src="$1" version="$2" module args=()
  while IFS= read -r module; do
    args+=("-dropreplace=$module")
    if grep -Eq "^[[:space:]]+${module//./\\.} v" "$src/go.mod"; then
      args+=("-require=$module@$version")
    fi
  done < <(sed -n 's#^[[:space:]]*\([^ ]*\) => \.\{1,2\}/.*#\1#p' "$src/go.mod")
  ((${#args[@]} == 0)) || (cd "$src" && go mod edit "${args[@]}")
  rm -f "$src/go.work" "$src/go.work.sum"
}

# A static, reproducible build of packages in src, niced: the machine has 2 cores and the
# tests run beside it.
go_build_in() { # src jobs out ldflags packages...
  local src="$1" jobs="$2" out="$3" ldflags="$4"
  shift 4
  (cd "$src" && CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false" GOWORK=off \
    nice -n 15 go build -p "$jobs" -trimpath -ldflags "$ldflags" -o "$out" "$@")
}
