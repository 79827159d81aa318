# The function: the native `bootstrap` from build/lambda/deployment.zip (scripts/package-lambda), or
# build/lambda-arm64/deployment.zip (scripts/package-lambda --arch arm64) when lambda_architecture
# is arm64: the package's instruction set always matches the function's.
locals {
  lambda_package = var.lambda_package_path != "" ? var.lambda_package_path : (
    var.lambda_architecture == "arm64" ? "../../build/lambda-arm64/deployment.zip" : "../../build/lambda/deployment.zip"
  )
}

resource "aws_cloudwatch_log_group" "lambda" {
  #checkov:skip=CKV_AWS_338:Retention is chosen per environment (envs/<env>.tfvars: prod keeps a year, dev a week); the variable's default is the dev value.
  name              = "/aws/lambda/${local.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_lambda_function" "api" {
  #checkov:skip=CKV_AWS_117:The function reaches only DynamoDB, SNS and SQS over their public AWS endpoints with IAM auth; there is no VPC resource to reach, and a VPC would add NAT cost and cold-start latency for nothing.
  #checkov:skip=CKV_AWS_116:A DLQ applies to asynchronous invocations only; API Gateway invokes synchronously and stream batches that fail go to the event source mapping's on-failure queue (aws_sqs_queue.stream_failures).
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile the pipeline does not have yet; the artifact is built and tested by the pipeline and pinned by source_code_hash.
  function_name = local.name
  description   = "DINEX Tracking API and notifications (${var.environment})"
  role          = aws_iam_role.lambda.arn

  runtime       = "provided.al2023"
  handler       = "bootstrap"
  architectures = [var.lambda_architecture]
  memory_size   = var.lambda_memory_mb
  timeout       = var.lambda_timeout_seconds

  filename         = local.lambda_package
  source_code_hash = filebase64sha256(local.lambda_package)

  # Each code change publishes a version; the `live` alias points at it and is what API Gateway
  # and the stream invoke, so a rollback moves the alias (docs/DEPLOY.md).
  publish = true

  reserved_concurrent_executions = var.lambda_reserved_concurrency
  kms_key_arn                    = aws_kms_key.main.arn

  environment {
    # API keys live in the table (`dinex-tracking keys --store dynamodb`); rate-limit counters
    # too, shared by every instance (DINEX_RATE_LIMITER defaults to dynamodb there).
    variables = merge({
      TABLE_NAME          = aws_dynamodb_table.tracking.name
      SNS_TOPIC           = aws_sns_topic.tracking_updates.arn
      ENVIRONMENT         = var.environment
      DINEX_STORE         = "dynamodb"
      DINEX_CORS_ORIGINS  = join(",", var.cors_allowed_origins)
      DINEX_PUBLIC_LOOKUP = tostring(var.public_lookup)
      DINEX_PUBLIC_VIEW   = var.public_view
    }, var.rate_limit == "" ? {} : { DINEX_RATE_LIMIT = var.rate_limit })
  }

  tracing_config {
    mode = "Active"
  }

  # JSON: Lambda filters by level (docs/OBSERVABILITY-LAMBDA.md, "Log volume"). Our lines are JSON
  # objects already and pass through unchanged; the application level reaches the binary as
  # AWS_LAMBDA_LOG_LEVEL (no DINEX_LOG_LEVEL here, so this is the one place it is set). The system
  # level WARN (production) drops platform.start/platform.report of successful invocations.
  logging_config {
    log_format            = "JSON"
    application_log_level = upper(var.log_level)
    system_log_level      = var.system_log_level
    log_group             = aws_cloudwatch_log_group.lambda.name
  }

  depends_on = [aws_iam_role_policy.lambda, aws_cloudwatch_log_group.lambda]
}

resource "aws_lambda_alias" "live" {
  name             = "live"
  description      = "The version that serves traffic"
  function_name    = aws_lambda_function.api.function_name
  function_version = aws_lambda_function.api.version
}

# API Gateway may invoke the alias from this API's stage only.
resource "aws_lambda_permission" "api_gateway" {
  statement_id  = "AllowHttpApiInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.api.function_name
  qualifier     = aws_lambda_alias.live.name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.http.execution_arn}/${aws_apigatewayv2_stage.env.name}/*"
}

# The table's stream drives the notifications through the same function. A batch item that
# fails is reported back (ReportBatchItemFailures); a failing batch is bisected and retried, then
# recorded on the failure queue instead of blocking the shard.
resource "aws_sqs_queue" "stream_failures" {
  name                      = "${local.name}-stream-failures"
  kms_master_key_id         = aws_kms_key.main.arn
  message_retention_seconds = 1209600
}

resource "aws_lambda_event_source_mapping" "table_stream" {
  event_source_arn  = aws_dynamodb_table.tracking.stream_arn
  function_name     = aws_lambda_alias.live.arn
  starting_position = "LATEST"

  batch_size                         = 100
  maximum_batching_window_in_seconds = 1
  bisect_batch_on_function_error     = true
  maximum_retry_attempts             = 10
  maximum_record_age_in_seconds      = 86400
  function_response_types            = ["ReportBatchItemFailures"]

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.stream_failures.arn
    }
  }

  depends_on = [aws_iam_role_policy.lambda]
}
