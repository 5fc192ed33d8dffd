"""Registry release artifacts: what `make release` writes installs with `terraform init`."""

import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

from conftest import PROVIDER_BLOCK
from harness import HOSTS, PROVIDER_VERSION, write_cli_config

ROOT = Path(__file__).resolve().parents[2]


def test_release_zips_install_with_terraform_init(tf, provider_bin, tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([str(ROOT / "scripts" / "release.sh"), "--package", str(provider_bin), "--out", str(dist)], check=True, timeout=300)

    prefix = f"terraform-provider-aqemia_{PROVIDER_VERSION}"
    archive = dist / f"{prefix}_linux_amd64.zip"
    manifest = dist / f"{prefix}_manifest.json"
    sums = dist / f"{prefix}_SHA256SUMS"
    assert json.loads(manifest.read_text()) == {"version": 1, "metadata": {"protocol_versions": ["5.0"]}}
    with zipfile.ZipFile(archive) as z:
        assert z.namelist() == [f"terraform-provider-aqemia_v{PROVIDER_VERSION}"]
    listed = dict(reversed(line.split()) for line in sums.read_text().splitlines())
    assert set(listed) >= {archive.name, manifest.name}
    for name, digest in listed.items():
        assert hashlib.sha256((dist / name).read_bytes()).hexdigest() == digest, name

    # A fresh mirror in the packed layout, holding only the zip.
    mirror = tmp_path / "packed-mirror"
    for host in HOSTS:
        (mirror / host / "aqemia" / "aqemia").mkdir(parents=True)
        shutil.copy2(archive, mirror / host / "aqemia" / "aqemia" / archive.name)
    tf.env["TF_CLI_CONFIG_FILE"] = str(write_cli_config(tmp_path / "packed.tfrc", mirror))
    tf.write(PROVIDER_BLOCK + """
data "aqemia_conformance" "x" {
  input = "from a zip"
}
""")
    out = tf.init().stdout
    assert f"Installed aqemia/aqemia v{PROVIDER_VERSION}" in out
    tf.apply()
    assert tf.attrs("data.aqemia_conformance.x")["upper"] == "FROM A ZIP"
