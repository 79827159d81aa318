output "api_url" {
  description = "Base URL of the API, stage included (e.g. https://abc123.execute-api.us-east-1.amazonaws.com/dev)."
  value       = aws_apigatewayv2_stage.env.invoke_url
}

output "table_name" {
  description = "DynamoDB table (TABLE_NAME of the function)."
  value       = aws_dynamodb_table.tracking.name
}

output "table_arn" {
  description = "DynamoDB table ARN."
  value       = aws_dynamodb_table.tracking.arn
}

output "table_stream_arn" {
  description = "The table's stream (feeds the notifications)."
  value       = aws_dynamodb_table.tracking.stream_arn
}

output "sns_topic_arn" {
  description = "tracking.updated topic (SNS_TOPIC of the function)."
  value       = aws_sns_topic.tracking_updates.arn
}

output "alarm_topic_arn" {
  description = "Topic every alarm publishes to."
  value       = aws_sns_topic.alarms.arn
}

output "function_name" {
  description = "Lambda function name."
  value       = aws_lambda_function.api.function_name
}

output "function_alias_arn" {
  description = "The `live` alias API Gateway and the stream invoke (move it to roll back)."
  value       = aws_lambda_alias.live.arn
}

output "function_version" {
  description = "The version published by this apply (the alias points at it)."
  value       = aws_lambda_function.api.version
}

output "stream_failure_queue_url" {
  description = "Stream batches given up after the retries."
  value       = aws_sqs_queue.stream_failures.id
}

output "dashboard_url" {
  description = "CloudWatch dashboard."
  value       = "https://${var.aws_region}.console.aws.amazon.com/cloudwatch/home?region=${var.aws_region}#dashboards:name=${aws_cloudwatch_dashboard.main.dashboard_name}"
}
