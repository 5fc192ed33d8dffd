# The platform so far, in one apply: an EKS cluster with its whole network, IAM, node group
# and ECR repository, and an application installed into that cluster through the
# connection the cluster resource exports (the provider mints an EKS token for each
# operation; no second apply, no kubeconfig step). `make sandbox` applies it against the
# local stand-ins: moto for AWS, whose EKS reports the Kubernetes test bed as the endpoint.

terraform {
  required_providers {
    aqemia = { source = "aqemia/aqemia" }
  }
}

variable "name" {
  description = "Cluster name; prefixes every AWS part."
  type        = string
  default     = "aqemia-dev"
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"
}

provider "aqemia" {
  region = var.region
}

resource "aqemia_cluster" "main" {
  name               = var.name
  single_nat_gateway = true # dev: one NAT gateway; production leaves one per zone

  tags = {
    stage = "dev"
  }
}

resource "aqemia_manifests" "hello" {
  cluster   = aqemia_cluster.main.connection
  name      = "hello"
  namespace = "hello"
  # The same application as examples/manifests, sorted so the order never depends on the file system.
  documents = [for f in sort(fileset("${path.module}/../manifests/manifests", "*.yaml")) : file("${path.module}/../manifests/manifests/${f}")]

  timeouts {
    create = "3m"
  }
}

output "ecr_repository_url" {
  description = "Where CI pushes the application's images."
  value       = aqemia_cluster.main.ecr_repository_url
}

output "kubeconfig" {
  description = "For kubectl: `terraform output -raw kubeconfig > kubeconfig`."
  value       = aqemia_cluster.main.kubeconfig
}

output "parts" {
  description = "Every AWS object of the cluster."
  value       = aqemia_cluster.main.parts
}

output "objects" {
  description = "Every Kubernetes object of the application, with its digest."
  value       = aqemia_manifests.hello.objects
}
