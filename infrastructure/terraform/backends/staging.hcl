# terraform init -reconfigure -backend-config=backends/staging.hcl
# The bucket and the lock table are created once per account (docs/DEPLOY.md).
bucket         = "dinex-tracking-terraform-state"
key            = "dinex-tracking/staging/terraform.tfstate"
region         = "us-east-1"
dynamodb_table = "dinex-tracking-terraform-locks"
encrypt        = true
