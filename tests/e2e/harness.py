"""Running the real Terraform CLI against the real provider binary, offline: used by the
end-to-end tests and the benchmarks."""

import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

PROVIDER_VERSION = "0.1.0"
# OpenTofu resolves `aqemia/aqemia` on its own registry host.
HOSTS = ("registry.terraform.io", "registry.opentofu.org")


def install_into_mirror(mirror: Path, binary: Path, version: str = PROVIDER_VERSION) -> Path:
    """Unpacked filesystem-mirror layout that `terraform init` reads offline, under the
    registry host of Terraform and of OpenTofu."""
    for host in HOSTS:
        target = mirror / host / "aqemia" / "aqemia" / version / "linux_amd64"
        target.mkdir(parents=True, exist_ok=True)
        dest = target / f"terraform-provider-aqemia_v{version}"
        shutil.copy2(binary, dest)
    return dest


def write_cli_config(path: Path, mirror: Path) -> Path:
    hosts = ", ".join(f'"{host}/aqemia/*"' for host in HOSTS)
    path.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = [{hosts}]\n  }}\n'
        f"  direct {{\n    exclude = [{hosts}]\n  }}\n"
        "}\n"
    )
    return path


class Terraform:
    """One working directory, one Terraform binary, one conformance store."""

    def __init__(self, binary: str, workdir: Path, env: dict):
        self.binary = binary
        self.dir = workdir
        self.env = env
        self.dir.mkdir(parents=True, exist_ok=True)

    def write(self, hcl: str, name: str = "main.tf"):
        (self.dir / name).write_text(hcl)

    def run(self, *args, ok=True, env=None):
        full_env = dict(self.env)
        full_env.update(env or {})
        proc = subprocess.run(
            [self.binary, *args],
            cwd=self.dir,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if ok and proc.returncode != 0:
            raise AssertionError(
                f"terraform {' '.join(args)} exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
            )
        for bad in ("Provider produced inconsistent", "Provider produced invalid", "produced an unexpected new value"):
            assert bad not in proc.stdout + proc.stderr, f"terraform {' '.join(args)}: {bad}\n{proc.stdout}\n{proc.stderr}"
        return proc

    def init(self):
        return self.run("init", "-input=false", "-no-color")

    def apply(self, *extra, ok=True, env=None):
        return self.run("apply", "-auto-approve", "-input=false", "-no-color", *extra, ok=ok, env=env)

    def destroy(self, env=None):
        return self.run("destroy", "-auto-approve", "-input=false", "-no-color", env=env)

    def plan_exit(self, *extra, env=None):
        """Exit code of `plan -detailed-exitcode`: 0 no changes, 2 changes, 1 error."""
        proc = self.run("plan", "-detailed-exitcode", "-input=false", "-no-color", *extra, ok=False, env=env)
        assert proc.returncode in (0, 2), f"plan failed\n{proc.stdout}\n{proc.stderr}"
        return proc.returncode, proc.stdout

    def assert_no_changes(self, env=None):
        code, out = self.plan_exit(env=env)
        assert code == 0, f"expected no changes, got:\n{out}"

    def planned_resource_actions(self, env=None):
        """Saved plan's actions per resource address, e.g. {"aqemia_conformance.a": ["no-op"]}."""
        self.run("plan", "-input=false", "-no-color", "-out=tfplan", env=env)
        plan = json.loads(self.run("show", "-json", "tfplan", env=env).stdout)
        return {rc["address"]: rc["change"]["actions"] for rc in plan.get("resource_changes", [])}

    def state(self, env=None):
        proc = self.run("show", "-json", "-no-color", env=env)
        # Decimal keeps numbers exact, so precision loss in the provider cannot hide.
        return json.loads(proc.stdout, parse_float=Decimal)

    def resources(self, env=None):
        values = self.state(env=env).get("values") or {}
        root = values.get("root_module") or {}
        return {r["address"]: r for r in root.get("resources", [])}

    def attrs(self, address, env=None):
        return self.resources(env=env)[address]["values"]
