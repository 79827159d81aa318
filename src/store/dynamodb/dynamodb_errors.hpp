#pragma once
// What an AWS error means to the core, the same for every DynamoDB adapter (store, keys, limits).
#include <string>

#include "aws/aws_error.hpp"
#include "core/error.hpp"

namespace dinex::store {

// Retryable AWS errors and a missing table are `unavailable` (503: try again, or fix the
// deployment); everything else is `internal`. The message names DynamoDB and, for a missing table,
// `table`.
core::error to_core_error(const std::string& table, const aws::aws_error& e);

}  // namespace dinex::store
