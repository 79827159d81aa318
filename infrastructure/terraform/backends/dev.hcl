# terraform init -reconfigure -backend-config=backends/dev.hcl
# The bucket and the lock table are created once per account (docs/DEPLOY.md).
bucket         = "dinex-tracking-terraform-state"
key            = "dinex-tracking/dev/terraform.tfstate"
region         = "us-east-1"
dynamodb_table = "dinex-tracking-terraform-locks"
encrypt        = true
