# tracking.updated notifications (message attributes `status` and `tracking_id` for filtering).
resource "aws_sns_topic" "tracking_updates" {
  name              = "${local.name}-tracking-updates"
  kms_master_key_id = aws_kms_key.main.arn
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.notification_emails)

  topic_arn = aws_sns_topic.tracking_updates.arn
  protocol  = "email"
  endpoint  = each.value
}

# Optional: a queue for subscribers that pull (a CRM, a mailer), with a dead-letter queue.
resource "aws_sqs_queue" "subscriber_dlq" {
  count = var.enable_sqs_subscriber ? 1 : 0

  name                      = "${local.name}-tracking-updates-dlq"
  kms_master_key_id         = aws_kms_key.main.arn
  message_retention_seconds = 1209600
}

resource "aws_sqs_queue" "subscriber" {
  count = var.enable_sqs_subscriber ? 1 : 0

  name                       = "${local.name}-tracking-updates"
  kms_master_key_id          = aws_kms_key.main.arn
  visibility_timeout_seconds = 60
  message_retention_seconds  = 345600
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.subscriber_dlq[0].arn
    maxReceiveCount     = 5
  })
}

data "aws_iam_policy_document" "subscriber_queue" {
  count = var.enable_sqs_subscriber ? 1 : 0

  statement {
    sid       = "FromTrackingUpdatesTopic"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.subscriber[0].arn]
    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_sns_topic.tracking_updates.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "subscriber" {
  count = var.enable_sqs_subscriber ? 1 : 0

  queue_url = aws_sqs_queue.subscriber[0].id
  policy    = data.aws_iam_policy_document.subscriber_queue[0].json
}

resource "aws_sns_topic_subscription" "sqs" {
  count = var.enable_sqs_subscriber ? 1 : 0

  topic_arn            = aws_sns_topic.tracking_updates.arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.subscriber[0].arn
  raw_message_delivery = true
}

# Operators' alarm topic: every CloudWatch alarm of the stack publishes here.
resource "aws_sns_topic" "alarms" {
  name              = "${local.name}-alarms"
  kms_master_key_id = aws_kms_key.main.arn
}

resource "aws_sns_topic_subscription" "alarm_email" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}
