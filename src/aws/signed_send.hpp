#pragma once
// Sign-and-send, once for every AWS client (DynamoDB's JSON protocol, SNS's Query protocol): the
// request goes to the service's endpoint with Host first and the SigV4 headers last.
#include <chrono>
#include <expected>
#include <string_view>

#include "aws/aws_error.hpp"
#include "aws/credentials.hpp"
#include "aws/http_client.hpp"

namespace dinex::aws {

// Sets the URL and the Host header of `request` from `service.endpoint`, signs it for
// `signing_name` ("dynamodb", "sns") at `now` and sends it once through `send`. Any answer is
// returned, whatever its status (the caller classifies it); the errors are a bad endpoint or a
// failed signing (client errors) and transport failures (retryable).
std::expected<http_response, aws_error> signed_send(const http_send& send, const service_config& service,
                                                    std::string_view signing_name,
                                                    std::chrono::system_clock::time_point now,
                                                    http_request request);

}  // namespace dinex::aws
