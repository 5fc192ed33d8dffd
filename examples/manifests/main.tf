# An application and its own API in one apply: a namespace, a CRD and a custom resource of
# it, a ConfigMap, a Deployment and its Service, installed by aqemia's release engine.
# `make sandbox` applies it to the local Kubernetes test bed (scripts/k8s-testbed.sh).

terraform {
  required_providers {
    aqemia = { source = "aqemia/aqemia" }
  }
}

variable "kubeconfig_path" {
  description = "Kubeconfig of the cluster to install into."
  type        = string
}

variable "context" {
  description = "Context in the kubeconfig; null for its current context."
  type        = string
  default     = null
}

resource "aqemia_manifests" "hello" {
  cluster = {
    kubeconfig_path = var.kubeconfig_path
    context         = var.context
  }
  name      = "hello"
  namespace = "hello"
  # Sorted, so the release does not depend on how the file system lists them.
  documents = [for f in sort(fileset(path.module, "manifests/*.yaml")) : file("${path.module}/${f}")]

  timeouts {
    create = "3m"
  }
}

output "objects" {
  description = "Every object of the release, with the digest of its configuration."
  value       = aqemia_manifests.hello.objects
}
