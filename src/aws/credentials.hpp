#pragma once
// Where the AWS settings come from: the environment, as the Lambda runtime and the AWS CLI set it.
#include <expected>
#include <functional>
#include <string>

#include "aws/sigv4.hpp"

namespace dinex::aws {

struct service_config {
    credentials creds;
    std::string region;
    std::string endpoint;  // scheme://host[:port], no path
};

using env_lookup = std::function<const char*(const char*)>;

// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (optional); region from AWS_REGION,
// then AWS_DEFAULT_REGION; endpoint from AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, else
// https://<service>.<region>.amazonaws.com. `service` is lower-case ("dynamodb"). The error says
// which variable is missing.
std::expected<service_config, std::string> config_from_environment(const std::string& service,
                                                                   const env_lookup& env = nullptr);

}  // namespace dinex::aws
