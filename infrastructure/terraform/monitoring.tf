# Alarms (all to the alarm topic) and the dashboard. The function writes CloudWatch Embedded
# Metric Format documents (namespace DINEX/Tracking, dimension Environment): Requests, ServerErrors,
# ClientErrors, Latency (ms), TrackingEvents (+ Status), NotificationFailures. A count of 0 is left
# out of the document (fewer bytes per request), so an error alarm sees missing data, not 0, in a
# period without errors: every alarm on these treats missing data as not breaching.
locals {
  alarm_actions = [aws_sns_topic.alarms.arn]

  # The DynamoDB operations the function calls (src/store/dynamodb), for the throttling alarm.
  dynamodb_operations = ["Query", "TransactGetItems", "TransactWriteItems", "GetItem", "UpdateItem"]
}

# Requests answered 5xx by the application (the handler turns exceptions into 500s, so Lambda's
# Errors metric does not see them; this replaces the original "Errors > 5" alarm that never fired).
resource "aws_cloudwatch_metric_alarm" "server_errors" {
  alarm_name          = "${local.name}-server-errors"
  alarm_description   = "More than ${var.alarm_error_threshold} requests answered 5xx by the service in 5 minutes"
  namespace           = local.metric_namespace
  metric_name         = "ServerErrors"
  dimensions          = { Environment = var.environment }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.alarm_error_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# Runtime failures: init errors, crashes, timeouts, invalid events (the original alarm, kept).
resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  alarm_name          = "${local.name}-lambda-errors"
  alarm_description   = "More than ${var.alarm_error_threshold} Lambda runtime errors in 5 minutes"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.api.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.alarm_error_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "lambda_throttles" {
  alarm_name          = "${local.name}-lambda-throttles"
  alarm_description   = "Invocations refused because the reserved concurrency is exhausted"
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.api.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  alarm_name          = "${local.name}-api-5xx"
  alarm_description   = "More than ${var.alarm_api_5xx_threshold} 5xx answers from API Gateway in 5 minutes (integration failures included)"
  namespace           = "AWS/ApiGateway"
  metric_name         = "5xx"
  dimensions          = { ApiId = aws_apigatewayv2_api.http.id, Stage = aws_apigatewayv2_stage.env.name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.alarm_api_5xx_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "api_latency_p99" {
  alarm_name          = "${local.name}-api-latency-p99"
  alarm_description   = "API p99 latency above ${var.alarm_latency_p99_ms} ms for 15 minutes"
  namespace           = "AWS/ApiGateway"
  metric_name         = "Latency"
  dimensions          = { ApiId = aws_apigatewayv2_api.http.id, Stage = aws_apigatewayv2_stage.env.name }
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 3
  threshold           = var.alarm_latency_p99_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "dynamodb_throttles" {
  alarm_name          = "${local.name}-dynamodb-throttled-requests"
  alarm_description   = "DynamoDB throttled requests of the store on ${local.name}"
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "throttled"
    expression  = "SUM(METRICS())"
    label       = "ThrottledRequests"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = local.dynamodb_operations
    content {
      id = "m${metric_query.key}"
      metric {
        namespace   = "AWS/DynamoDB"
        metric_name = "ThrottledRequests"
        dimensions  = { TableName = aws_dynamodb_table.tracking.name, Operation = metric_query.value }
        stat        = "Sum"
        period      = 300
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "notification_failures" {
  alarm_name          = "${local.name}-notification-failures"
  alarm_description   = "tracking.updated notifications that could not be published"
  namespace           = local.metric_namespace
  metric_name         = "NotificationFailures"
  dimensions          = { Environment = var.environment }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# Stream batches given up after the retries: notifications that need replaying by hand.
resource "aws_cloudwatch_metric_alarm" "stream_failures" {
  alarm_name          = "${local.name}-stream-failures"
  alarm_description   = "Stream batches recorded on ${aws_sqs_queue.stream_failures.name}"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.stream_failures.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_dashboard" "main" {
  dashboard_name = local.name
  dashboard_body = jsonencode({
    widgets = [
      {
        type   = "metric"
        x      = 0
        y      = 0
        width  = 12
        height = 6
        properties = {
          title  = "Requests and errors (service)"
          region = var.aws_region
          stat   = "Sum"
          period = 60
          metrics = [
            [local.metric_namespace, "Requests", "Environment", var.environment],
            [local.metric_namespace, "ClientErrors", "Environment", var.environment],
            [local.metric_namespace, "ServerErrors", "Environment", var.environment],
          ]
        }
      },
      {
        type   = "metric"
        x      = 12
        y      = 0
        width  = 12
        height = 6
        properties = {
          title  = "Latency (service p50/p99, API p99), ms"
          region = var.aws_region
          period = 60
          metrics = [
            [local.metric_namespace, "Latency", "Environment", var.environment, { stat = "p50" }],
            [local.metric_namespace, "Latency", "Environment", var.environment, { stat = "p99" }],
            ["AWS/ApiGateway", "Latency", "ApiId", aws_apigatewayv2_api.http.id, "Stage", var.environment, { stat = "p99" }],
          ]
        }
      },
      {
        type   = "metric"
        x      = 0
        y      = 6
        width  = 12
        height = 6
        properties = {
          title  = "Tracking events by status"
          region = var.aws_region
          stat   = "Sum"
          period = 300
          metrics = [
            [{ expression = "SEARCH('{${local.metric_namespace},Environment,Status} MetricName=\"TrackingEvents\" Environment=\"${var.environment}\"', 'Sum', 300)", id = "events" }],
          ]
        }
      },
      {
        type   = "metric"
        x      = 12
        y      = 6
        width  = 12
        height = 6
        properties = {
          title  = "Lambda"
          region = var.aws_region
          stat   = "Sum"
          period = 60
          metrics = [
            ["AWS/Lambda", "Invocations", "FunctionName", aws_lambda_function.api.function_name],
            ["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.api.function_name],
            ["AWS/Lambda", "Throttles", "FunctionName", aws_lambda_function.api.function_name],
            ["AWS/Lambda", "ConcurrentExecutions", "FunctionName", aws_lambda_function.api.function_name, { stat = "Maximum" }],
          ]
        }
      },
      {
        type   = "metric"
        x      = 0
        y      = 12
        width  = 12
        height = 6
        properties = {
          title  = "API Gateway"
          region = var.aws_region
          stat   = "Sum"
          period = 60
          metrics = [
            ["AWS/ApiGateway", "Count", "ApiId", aws_apigatewayv2_api.http.id, "Stage", var.environment],
            ["AWS/ApiGateway", "4xx", "ApiId", aws_apigatewayv2_api.http.id, "Stage", var.environment],
            ["AWS/ApiGateway", "5xx", "ApiId", aws_apigatewayv2_api.http.id, "Stage", var.environment],
          ]
        }
      },
      {
        type   = "metric"
        x      = 12
        y      = 12
        width  = 12
        height = 6
        properties = {
          title  = "DynamoDB and notifications"
          region = var.aws_region
          stat   = "Sum"
          period = 300
          metrics = [
            ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", aws_dynamodb_table.tracking.name],
            ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", aws_dynamodb_table.tracking.name],
            [local.metric_namespace, "NotificationFailures", "Environment", var.environment],
            ["AWS/Lambda", "IteratorAge", "FunctionName", aws_lambda_function.api.function_name, "Resource", "${aws_lambda_function.api.function_name}:${aws_lambda_alias.live.name}", { stat = "Maximum" }],
          ]
        }
      },
      {
        type   = "alarm"
        x      = 0
        y      = 18
        width  = 24
        height = 4
        properties = {
          title = "Alarms"
          alarms = [
            aws_cloudwatch_metric_alarm.server_errors.arn,
            aws_cloudwatch_metric_alarm.lambda_errors.arn,
            aws_cloudwatch_metric_alarm.lambda_throttles.arn,
            aws_cloudwatch_metric_alarm.api_5xx.arn,
            aws_cloudwatch_metric_alarm.api_latency_p99.arn,
            aws_cloudwatch_metric_alarm.dynamodb_throttles.arn,
            aws_cloudwatch_metric_alarm.notification_failures.arn,
            aws_cloudwatch_metric_alarm.stream_failures.arn,
          ]
        }
      },
    ]
  })
}
