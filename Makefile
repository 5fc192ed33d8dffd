# terraform-provider-aqemia: the everyday commands. See README.md.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

CARGO ?= cargo
CARGO_TARGET_DIR ?= target
# The version of the workspace, from [workspace.package] in the root Cargo.toml.
VERSION := $(shell awk '/^\[/{section=$$0} section=="[workspace.package]" && $$1=="version" {gsub(/"/, "", $$3); print $$3; exit}' Cargo.toml)
# Terraform's platform name for this machine.
UNAME_M := $(shell uname -m)
PLATFORM := linux_$(if $(filter x86_64,$(UNAME_M)),amd64,$(if $(filter aarch64 arm64,$(UNAME_M)),arm64,$(UNAME_M)))
ifeq ($(strip $(TF_PLUGIN_MIRROR)),)
TF_PLUGIN_MIRROR := $(HOME)/.terraform.d/plugins
endif
INSTALL_DIR := $(TF_PLUGIN_MIRROR)/registry.terraform.io/aqemia/aqemia/$(VERSION)/$(PLATFORM)
# OpenTofu resolves `aqemia/aqemia` to its own registry host; the same mirror serves both.
TOFU_INSTALL_DIR := $(TF_PLUGIN_MIRROR)/registry.opentofu.org/aqemia/aqemia/$(VERSION)/$(PLATFORM)

.PHONY: build install test release bench fuzz tools sandbox version

build:
	$(CARGO) build --release -p terraform-provider-aqemia

# Unpacked filesystem-mirror layout: `terraform init` finds it offline, with no CLI config
# (~/.terraform.d/plugins is an implied mirror) or with a filesystem_mirror naming $(TF_PLUGIN_MIRROR).
install: build
	@test -n "$(VERSION)" || { echo "could not read [workspace.package] version from Cargo.toml" >&2; exit 1; }
	install -d "$(INSTALL_DIR)" "$(TOFU_INSTALL_DIR)"
	install -m 0755 "$(CARGO_TARGET_DIR)/release/terraform-provider-aqemia" "$(INSTALL_DIR)/terraform-provider-aqemia_v$(VERSION)"
	install -m 0755 "$(CARGO_TARGET_DIR)/release/terraform-provider-aqemia" "$(TOFU_INSTALL_DIR)/terraform-provider-aqemia_v$(VERSION)"
	@echo "installed $(INSTALL_DIR)/terraform-provider-aqemia_v$(VERSION)"
	@echo "installed $(TOFU_INSTALL_DIR)/terraform-provider-aqemia_v$(VERSION) (for OpenTofu)"

test:
	scripts/test.sh

release:
	scripts/release.sh

bench:
	scripts/bench.sh

fuzz:
	scripts/fuzz.sh

tools:
	scripts/install-tools.sh

# `make sandbox` applies examples/platform to the local AWS stand-in and Kubernetes test bed,
# offline; `make sandbox DESTROY=1` destroys it and stops both.
sandbox:
	scripts/sandbox.sh $(if $(filter 1,$(DESTROY)),destroy,)

version:
	@echo $(VERSION)
