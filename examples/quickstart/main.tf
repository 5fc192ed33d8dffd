# The most complete example the provider runs today: the conformance resource (test builds
# only) exercising every value type, nesting mode, default and computed value through one
# apply. `make sandbox` applies it against the local stand-ins.

terraform {
  required_providers {
    aqemia = { source = "aqemia/aqemia" }
  }
}

provider "aqemia" {
  region = "eu-west-1"
}

resource "aqemia_conformance" "web" {
  name    = "web"
  str     = "served by aqemia"
  num     = 1180591620717411303424.5
  dyn     = { replicas = 2, zones = ["a", "b"] }
  strings = ["one", "two"]
  secret  = "never shown in a plan"

  single {
    label = "hello"
  }
  item {
    key   = "color"
    value = "blue"
  }
  tag {
    name = "stage"
    value = "dev"
  }
  timeouts {
    create = "2m"
  }
}

resource "aqemia_conformance" "worker" {
  name = "worker"
  # Unknown until web exists: flows through the plan as a refined unknown.
  str = "after-${aqemia_conformance.web.id}"
}

data "aqemia_conformance" "echo" {
  input   = aqemia_conformance.worker.str
  numbers = [0.1, aqemia_conformance.web.num]
}

output "web" {
  value = {
    id       = aqemia_conformance.web.id
    summary  = aqemia_conformance.web.summary
    revision = aqemia_conformance.web.revision
  }
}

output "echo" {
  value = data.aqemia_conformance.echo.numbers_text
}
