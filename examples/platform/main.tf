# The platform so far, in one apply: an EKS cluster with its whole network, IAM, node group
# and ECR repository; Traefik behind a Network Load Balancer; the application in its dev and
# prod stages, each with TLS and a proxied Cloudflare record pointing at that load balancer;
# and a set of plain manifests. Everything reaches the new cluster through the connection the
# cluster resource exports (the provider mints an EKS token for each operation; no second
# apply, no kubeconfig step). `make sandbox` applies it against the local stand-ins: moto for
# AWS, whose EKS reports the Kubernetes test bed as the endpoint, and a Cloudflare stand-in.
# The Cloudflare API token comes from CLOUDFLARE_API_TOKEN, never from a file.

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

variable "zone" {
  description = "The Cloudflare zone the application's names are in."
  type        = string
  default     = "example.com"
}

variable "image_tag" {
  description = "The application's image tag in the cluster's ECR repository."
  type        = string
  default     = "1.0.0"
}

variable "chart_mirrors" {
  description = "Chart repositories served from elsewhere (the sandbox serves ../shared/charts)."
  type        = map(string)
  default     = {}
}

provider "aqemia" {
  region        = var.region
  chart_mirrors = var.chart_mirrors
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

# The ingress controller: Traefik, its Service an internet-facing Network Load Balancer.
resource "aqemia_chart" "traefik" {
  cluster          = aqemia_cluster.main.connection
  name             = "traefik"
  namespace        = "ingress"
  create_namespace = true
  repository       = "https://traefik.github.io/charts"
  chart            = "traefik"
  version          = "41.3.0"
  values = [yamlencode({
    ingressClass = { enabled = true, isDefaultClass = true, name = "traefik" }
    ingressRoute = { dashboard = { enabled = false } }
    service = {
      annotations = {
        "service.beta.kubernetes.io/aws-load-balancer-type"            = "external"
        "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type" = "ip"
        "service.beta.kubernetes.io/aws-load-balancer-scheme"          = "internet-facing"
      }
    }
  })]
}

# The application, once per stage: one replica in dev, two (with a disruption budget) in prod.
resource "aqemia_app" "web" {
  for_each = { dev = 1, prod = 2 }

  cluster        = aqemia_cluster.main.connection
  name           = "web"
  stage          = each.key
  image          = "${aqemia_cluster.main.ecr_repository_url}:${var.image_tag}"
  replicas       = each.value
  host           = each.key == "prod" ? "app.${var.zone}" : "dev.app.${var.zone}"
  ingress_class  = "traefik"
  cluster_issuer = "letsencrypt"
  env            = { STAGE = each.key }

  dns {
    zone                  = var.zone
    load_balancer_service = "ingress/traefik"
  }

  depends_on = [aqemia_chart.traefik]
}

output "urls" {
  description = "Where each stage answers."
  value       = { for stage, app in aqemia_app.web : stage => app.url }
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
