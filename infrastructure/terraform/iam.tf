# The function's execution role: exact actions on exact ARNs, no wildcard action.
data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "lambda" {
  name               = "${local.name}-lambda"
  description        = "Execution role of the ${local.name} function"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_iam_policy_document" "lambda" {
  # The store (src/store/dynamodb, docs/DYNAMODB.md): Query for a package's state and history (and
  # before a write), the conditional PutItem of the state that commits a write, PutItem and
  # BatchWriteItem of the event items after it, GetItem of an event item or a legacy DEDUP# marker,
  # DescribeTable for the health check; GetItem of an API key's item and UpdateItem leasing the
  # shared rate-limit counters (RL#<client> items, dynamodb_access.cpp).
  statement {
    sid       = "TrackingTable"
    actions   = ["dynamodb:BatchWriteItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.tracking.arn]
  }

  # The operator listing queries the sparse status index.
  statement {
    sid       = "StatusIndex"
    actions   = ["dynamodb:Query"]
    resources = ["${aws_dynamodb_table.tracking.arn}/index/status-updated-index"]
  }

  # The event source mapping reads the table's stream with the function's role.
  statement {
    sid       = "TrackingStream"
    actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
    resources = [aws_dynamodb_table.tracking.stream_arn]
  }

  # Batches that still fail after the retries are recorded on the stream's failure queue.
  statement {
    sid       = "StreamFailureQueue"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.stream_failures.arn]
  }

  # tracking.updated notifications.
  statement {
    sid       = "PublishNotifications"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.tracking_updates.arn]
  }

  # The topic, the queue and the stream are encrypted with the stack's key.
  statement {
    sid       = "UseStackKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }

  # Logs (and with them the EMF metrics) go to the function's own log group only.
  statement {
    sid       = "FunctionLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda.arn}:log-stream:*"]
  }

  # X-Ray has no resource-level permissions: these two actions only accept "*" as the resource.
  statement {
    sid       = "XRayTracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "lambda" {
  name   = "${local.name}-lambda"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda.json
}
