# HTTP API -> the function's `live` alias (payload format 2.0). CORS, throttling and the access
# log are API Gateway's duties here, as the Beast server's in the self-hosted shape.
resource "aws_apigatewayv2_api" "http" {
  name          = local.name
  description   = "DINEX Tracking API (${var.environment})"
  protocol_type = "HTTP"

  # API Gateway answers the OPTIONS preflight itself from this configuration.
  cors_configuration {
    allow_origins  = var.cors_allowed_origins
    allow_methods  = ["GET", "HEAD", "POST", "OPTIONS"]
    allow_headers  = ["authorization", "content-type", "idempotency-key", "x-api-key", "x-request-id"]
    expose_headers = ["retry-after", "x-request-id"]
    max_age        = 3600
  }
}

resource "aws_cloudwatch_log_group" "api_access" {
  #checkov:skip=CKV_AWS_338:Retention is chosen per environment (envs/<env>.tfvars: prod keeps a year, dev a week); the variable's default is the dev value.
  name              = "/aws/apigateway/${local.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_apigatewayv2_stage" "env" {
  api_id      = aws_apigatewayv2_api.http.id
  name        = var.environment
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit    = var.throttle_rate_limit
    throttling_burst_limit   = var.throttle_burst_limit
    detailed_metrics_enabled = true
  }

  # One JSON line per request (never a body), joined to the function's one document per invocation
  # by requestId (our request_id). Its bytes are paid on every request (bench/cost.py renders this
  # format for the cost model), so only what API Gateway alone knows: the caller's address (the
  # function's document leaves it here), the route and status of requests that never reach the
  # function (throttled, no route, integration failures) with API Gateway's own error, and the join
  # key. What the function's document has (method, bytes out, handler latency, its route label)
  # and what CloudWatch has (the time; latency in AWS/ApiGateway) is left out:
  # docs/OBSERVABILITY-LAMBDA.md, "Log volume".
  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format = jsonencode({
      requestId        = "$context.requestId"
      ip               = "$context.identity.sourceIp"
      routeKey         = "$context.routeKey"
      status           = "$context.status"
      error            = "$context.error.message"
      integrationError = "$context.integrationErrorMessage"
    })
  }
}

resource "aws_apigatewayv2_integration" "lambda" {
  api_id                 = aws_apigatewayv2_api.http.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_alias.live.invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 12000
}

resource "aws_apigatewayv2_route" "service" {
  #checkov:skip=CKV_AWS_309:The service authenticates itself: POST /tracking and /tracking/batch need a writer API key and GET /packages any key, checked by the application (docs/SECURITY.md); lookups, /health and the tracking page are public by design.
  for_each = local.routes

  api_id    = aws_apigatewayv2_api.http.id
  route_key = each.value
  target    = "integrations/${aws_apigatewayv2_integration.lambda.id}"
}
