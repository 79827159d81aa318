#include "aws/signed_send.hpp"

#include <string>

namespace dinex::aws {

std::expected<http_response, aws_error> signed_send(const http_send& send, const service_config& service,
                                                    std::string_view signing_name,
                                                    std::chrono::system_clock::time_point now,
                                                    http_request request) {
    const auto url = parse_url(service.endpoint);
    if (!url) return std::unexpected(aws_error{error_kind::client, 0, {}, url.error().message, {}});
    request.url = service.endpoint;
    request.headers.insert(request.headers.begin(), {"Host", url->authority});
    const signing_request to_sign{request.method, request.path, request.query, request.headers, request.body};
    const auto signed_at = std::chrono::time_point_cast<std::chrono::seconds>(now);
    try {
        const auto sig = sign(to_sign, service.creds, service.region, signing_name, signed_at);
        request.headers.insert(request.headers.end(), sig.headers_to_add.begin(), sig.headers_to_add.end());
    } catch (const std::exception& e) {
        std::string why = "signing: ";
        why.append(e.what());
        return std::unexpected(aws_error{error_kind::client, 0, {}, std::move(why), {}});
    }
    auto answer = send(request);
    if (!answer) return std::unexpected(transport_error(answer.error().message));
    return std::move(*answer);
}

}  // namespace dinex::aws
