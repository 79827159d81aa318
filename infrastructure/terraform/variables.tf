variable "environment" {
  description = "Deployment environment; every resource name is suffixed with it."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be one of dev, staging, prod."
  }
}

variable "aws_region" {
  description = "AWS region of the stack (the table's home region)."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must be an AWS region name such as us-east-1."
  }
}

variable "project_name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "dinex-tracking"
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

# --- Lambda -------------------------------------------------------------------------------------

variable "lambda_package_path" {
  description = "Path of deployment.zip, relative to this directory or absolute. Empty: the package scripts/package-lambda builds for lambda_architecture (build/lambda for x86_64, build/lambda-arm64 for arm64)."
  type        = string
  default     = ""
}

variable "lambda_architecture" {
  description = "Instruction set of the bootstrap in the package: x86_64 or arm64."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.lambda_architecture)
    error_message = "lambda_architecture must be x86_64 or arm64."
  }
}

variable "lambda_memory_mb" {
  description = "Lambda memory in MB (128-256: the native bootstrap needs ~6 MiB)."
  type        = number
  default     = 128

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 256
    error_message = "lambda_memory_mb must be between 128 and 256."
  }
}

variable "lambda_timeout_seconds" {
  description = "Lambda timeout in seconds."
  type        = number
  default     = 10

  validation {
    condition     = var.lambda_timeout_seconds >= 1 && var.lambda_timeout_seconds <= 29
    error_message = "lambda_timeout_seconds must be 1-29 (API Gateway's integration limit is 30 s)."
  }
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrent executions of the function (protects the account and the table)."
  type        = number
  default     = 10

  validation {
    condition     = var.lambda_reserved_concurrency >= 1
    error_message = "lambda_reserved_concurrency must be at least 1."
  }
}

variable "log_level" {
  description = "The function's application log level: logging_config.application_log_level, which Lambda hands the binary as AWS_LAMBDA_LOG_LEVEL and applies to its JSON lines' \"level\"."
  type        = string
  default     = "info"

  validation {
    # The one document per invocation (access fields + EMF metrics) has no "level": Lambda files it
    # as INFO, so at WARN or ERROR Lambda would drop it and the metrics every alarm reads with it.
    condition     = contains(["debug", "info"], var.log_level)
    error_message = "log_level must be debug or info: at warn or error Lambda would drop the per-invocation EMF documents (INFO) and the ServerErrors alarm would go blind."
  }
}

variable "system_log_level" {
  description = "Lambda's own log lines (logging_config.system_log_level). WARN (production) keeps only failed invocations' platform.runtimeDone/platform.report; INFO adds platform.start and platform.report of every invocation (~400 B each: Duration, Max Memory Used, Init Duration); DEBUG adds the rest."
  type        = string
  default     = "WARN"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN"], var.system_log_level)
    error_message = "system_log_level must be DEBUG, INFO or WARN."
  }
}

variable "log_retention_days" {
  description = "CloudWatch Logs retention of the function's and the API's log groups."
  type        = number
  default     = 7

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, ... 3653)."
  }
}

variable "public_lookup" {
  description = "Whether GET /tracking answers without an API key (DINEX_PUBLIC_LOOKUP; docs/SECURITY.md)."
  type        = bool
  default     = true
}

variable "public_view" {
  description = "What an anonymous GET /tracking shows: limited (no notes, coordinates to ~1 km) or full, as the original service (DINEX_PUBLIC_VIEW; docs/MIGRATING.md)."
  type        = string
  default     = "limited"

  validation {
    condition     = contains(["limited", "full"], var.public_view)
    error_message = "public_view must be limited or full."
  }
}

variable "rate_limit" {
  description = "Per-client rate limits (DINEX_RATE_LIMIT, docs/SECURITY.md); empty for the service's default."
  type        = string
  default     = ""
}

# --- API ----------------------------------------------------------------------------------------

variable "cors_allowed_origins" {
  description = "Origins allowed by the HTTP API's CORS configuration."
  type        = list(string)
  default     = ["*"]
}

variable "throttle_rate_limit" {
  description = "Steady-state requests per second of the stage (route-wide throttle)."
  type        = number
  default     = 100

  validation {
    condition     = var.throttle_rate_limit > 0
    error_message = "throttle_rate_limit must be positive."
  }
}

variable "throttle_burst_limit" {
  description = "Burst of requests the stage accepts above the rate."
  type        = number
  default     = 200

  validation {
    condition     = var.throttle_burst_limit > 0
    error_message = "throttle_burst_limit must be positive."
  }
}

# --- Notifications ------------------------------------------------------------------------------

variable "notification_emails" {
  description = "E-mail addresses subscribed to the tracking.updated topic (each must confirm)."
  type        = list(string)
  default     = []
}

variable "enable_sqs_subscriber" {
  description = "Subscribe an SQS queue (with a dead-letter queue) to the tracking.updated topic."
  type        = bool
  default     = false
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic."
  type        = list(string)
  default     = []
}

# --- Alarms -------------------------------------------------------------------------------------

variable "alarm_error_threshold" {
  description = "Lambda Errors and ServerErrors above this sum over 5 minutes raise an alarm (the original: 5)."
  type        = number
  default     = 5
}

variable "alarm_api_5xx_threshold" {
  description = "API Gateway 5xx responses above this sum over 5 minutes raise an alarm."
  type        = number
  default     = 5
}

variable "alarm_latency_p99_ms" {
  description = "API Gateway p99 latency (ms) above which, for 3 periods of 5 minutes, an alarm is raised."
  type        = number
  default     = 1000
}

# --- Regions ------------------------------------------------------------------------------------

variable "replica_regions" {
  description = "prod only: DynamoDB global-table replicas, each with a customer-managed KMS key ARN of its region."
  type = list(object({
    region_name = string
    kms_key_arn = string
  }))
  default = []

  validation {
    condition     = alltrue([for r in var.replica_regions : can(regex("^arn:aws[a-z-]*:kms:", r.kms_key_arn))])
    error_message = "each replica needs the ARN of a KMS key in its own region."
  }
}
