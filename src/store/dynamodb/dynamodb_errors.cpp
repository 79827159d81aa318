#include "store/dynamodb/dynamodb_errors.hpp"

namespace dinex::store {

core::error to_core_error(const std::string& table, const aws::aws_error& e) {
    if (e.retryable()) return core::error::unavailable_error("dynamodb: " + e.describe());
    if (e.kind == aws::error_kind::resource_not_found) {
        return core::error::unavailable_error("dynamodb: table " + table + " not found: " + e.describe());
    }
    return core::error::internal_error("dynamodb: " + e.describe());
}

}  // namespace dinex::store
