environment                 = "prod"
aws_region                  = "us-east-1"
lambda_architecture         = "x86_64"
lambda_memory_mb            = 256
lambda_reserved_concurrency = 100
log_level                   = "info"
system_log_level            = "WARN"
log_retention_days          = 365
cors_allowed_origins        = ["https://tracking.dinex.example"]
throttle_rate_limit         = 100
throttle_burst_limit        = 200
notification_emails         = []
enable_sqs_subscriber       = true
alarm_emails                = []

# Global-table replicas (optional): one KMS key ARN per replica region, created beforehand in that
# region (docs/DEPLOY.md). Example:
# replica_regions = [{ region_name = "sa-east-1", kms_key_arn = "arn:aws:kms:sa-east-1:111122223333:key/..." }]
replica_regions = []
