#include "aws/credentials.hpp"

#include <cctype>
#include <cstdlib>

namespace dinex::aws {

std::expected<service_config, std::string> config_from_environment(const std::string& service,
                                                                   const env_lookup& env) {
    const auto get = [&](const char* name) -> std::string {
        const char* v = env ? env(name) : std::getenv(name);
        return v ? std::string(v) : std::string();
    };
    service_config c;
    c.creds.access_key_id = get("AWS_ACCESS_KEY_ID");
    c.creds.secret_access_key = get("AWS_SECRET_ACCESS_KEY");
    c.creds.session_token = get("AWS_SESSION_TOKEN");
    if (c.creds.access_key_id.empty() || c.creds.secret_access_key.empty()) {
        return std::unexpected("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set");
    }
    c.region = get("AWS_REGION");
    if (c.region.empty()) c.region = get("AWS_DEFAULT_REGION");
    if (c.region.empty()) return std::unexpected("AWS_REGION (or AWS_DEFAULT_REGION) must be set");

    std::string upper;
    for (const char ch : service) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    c.endpoint = get(("AWS_ENDPOINT_URL_" + upper).c_str());
    if (c.endpoint.empty()) c.endpoint = get("AWS_ENDPOINT_URL");
    if (c.endpoint.empty()) c.endpoint = "https://" + service + "." + c.region + ".amazonaws.com";
    while (!c.endpoint.empty() && c.endpoint.back() == '/') c.endpoint.pop_back();
    return c;
}

}  // namespace dinex::aws
