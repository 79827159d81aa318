# The table the `dynamodb` store uses. Its schema must equal the one definition the binary has
# (src/store/dynamodb/table_schema.cpp; `dinex-tracking create-table --print-definition` prints
# it): tests/infra checks that, so `create-table` is not needed where Terraform runs.
resource "aws_dynamodb_table" "tracking" {
  name         = local.name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "tracking_id"
  range_key    = "sk"

  attribute {
    name = "tracking_id"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  attribute {
    name = "gsi_status"
    type = "S"
  }

  attribute {
    name = "gsi_updated_at"
    type = "N"
  }

  # Sparse: only state items carry gsi_status/gsi_updated_at (the operator listing).
  global_secondary_index {
    name            = "status-updated-index"
    hash_key        = "gsi_status"
    range_key       = "gsi_updated_at"
    projection_type = "ALL"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  # Feeds the notifications (the event source mapping in lambda.tf); global tables need it too.
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }

  point_in_time_recovery {
    enabled = true
  }

  deletion_protection_enabled = local.deletion_protection

  dynamic "replica" {
    for_each = local.replicas
    content {
      region_name            = replica.value.region_name
      kms_key_arn            = replica.value.kms_key_arn
      point_in_time_recovery = true
      propagate_tags         = true
    }
  }

  lifecycle {
    precondition {
      condition     = var.environment == "prod" || length(var.replica_regions) == 0
      error_message = "replica_regions is for prod only."
    }
  }
}
