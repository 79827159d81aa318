# DINEX Tracking on AWS: API Gateway HTTP API -> Lambda (provided.al2023, the native `bootstrap`)
# -> DynamoDB (stream -> the same Lambda) -> SNS. One stack per environment (dev, staging, prod),
# each with its own state (backends/<env>.hcl) and variables (envs/<env>.tfvars).
#
# Files: main.tf (names, the KMS key), dynamodb.tf, iam.tf, lambda.tf, api.tf, sns.tf,
# monitoring.tf (alarms, dashboard), variables.tf, outputs.tf, versions.tf.

locals {
  name       = "${var.project_name}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # Global-table replicas are a production feature; elsewhere they are refused (see the table's
  # precondition) rather than silently dropped.
  replicas = var.environment == "prod" ? var.replica_regions : []

  # Deletion protection everywhere but dev, where stacks are torn down and rebuilt.
  deletion_protection = var.environment != "dev"

  # The routes the service serves (src/api/router.cpp). OPTIONS (CORS preflight) is answered by
  # API Gateway from cors_configuration, so it has no route. The stage prefix is in rawPath and
  # the router tolerates it.
  routes = toset([
    "GET /health",
    "GET /tracking",
    "POST /tracking",
    "POST /tracking/batch",
    "GET /packages",
    "GET /",
    "GET /assets/{proxy+}",
    "GET /staff",
    "GET /staff/{proxy+}",
  ])

  # CloudWatch Embedded Metric Format namespace written by the function (src/obs/emf.cpp).
  metric_namespace = "DINEX/Tracking"
}

# One customer-managed key per environment encrypts the table and its stream, the topics, the
# queues, the log groups and the function's environment.
resource "aws_kms_key" "main" {
  description             = "${local.name}: DynamoDB, SNS, SQS, CloudWatch Logs, Lambda environment"
  enable_key_rotation     = true
  deletion_window_in_days = var.environment == "prod" ? 30 : 7
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "main" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.main.key_id
}

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:This is a key policy: "*" as resource means this key only, and the root statement delegates to IAM policies as AWS's default key policy does.
  #checkov:skip=CKV_AWS_111:This is a key policy: "*" as resource means this key only; service principals are limited by source account and encryption context.
  #checkov:skip=CKV_AWS_356:This is a key policy: a key policy's resource is always "*", meaning the key it is attached to.
  # The account's default key-policy statement: it delegates access to IAM policies (the Lambda
  # role's policy names exact kms actions on this key). Without it the key is unmanageable.
  statement {
    sid       = "EnableRootAccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch Logs encrypts the log groups of this stack only.
  statement {
    sid       = "CloudWatchLogs"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${var.aws_region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${var.aws_region}:${local.account_id}:log-group:*"]
    }
  }

  # CloudWatch alarms publish to the encrypted alarm topic; SNS delivers to the encrypted queue.
  statement {
    sid       = "AlarmsAndSnsDelivery"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "sns.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}
