#include "notify/webhook.hpp"

#include "core/text.hpp"
#include "crypto/crypto.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>

namespace dinex::notify {
namespace {

std::optional<std::string> refused_v4(const boost::asio::ip::address_v4& a) {
    const auto b = a.to_bytes();
    if (b[0] == 127) return "loopback";
    if (b[0] == 0) return "unspecified";
    if (b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168)) return "private";
    if (b[0] == 169 && b[1] == 254) return "link-local";
    if (b[0] == 100 && (b[1] & 0xC0) == 64) return "shared address space";
    if (b[0] == 192 && b[1] == 0 && b[2] == 0) return "reserved";
    if ((b[0] == 192 && b[1] == 0 && b[2] == 2) || (b[0] == 198 && b[1] == 51 && b[2] == 100) ||
        (b[0] == 203 && b[1] == 0 && b[2] == 113)) {
        return "documentation";
    }
    if (b[0] == 198 && (b[1] & 0xFE) == 18) return "reserved";  // benchmarking, 198.18.0.0/15
    if (b[0] >= 224 && b[0] <= 239) return "multicast";
    if (b[0] >= 240) return "reserved";
    return std::nullopt;
}

std::optional<std::string> refused_v6(const boost::asio::ip::address_v6& a) {
    if (a.is_v4_mapped()) return refused_v4(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a));
    const auto b = a.to_bytes();
    if (a.is_loopback()) return "loopback";
    if (a.is_unspecified()) return "unspecified";
    if (a.is_link_local()) return "link-local";
    if (a.is_multicast()) return "multicast";
    if ((b[0] & 0xFE) == 0xFC) return "unique local";
    if ((b[0] == 0xFE) && ((b[1] & 0xC0) == 0xC0)) return "private";  // deprecated site-local
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8) return "documentation";
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) embed an IPv4 address: judge that one.
    if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B) {
        return refused_v4(boost::asio::ip::address_v4({b[12], b[13], b[14], b[15]}));
    }
    if (b[0] == 0x20 && b[1] == 0x02)
        return refused_v4(boost::asio::ip::address_v4({b[2], b[3], b[4], b[5]}));
    // The deprecated IPv4-compatible form (::a.b.c.d) is judged as the IPv4 address it embeds.
    if (std::all_of(b.begin(), b.begin() + 12, [](unsigned char x) { return x == 0; })) {
        return refused_v4(boost::asio::ip::address_v4({b[12], b[13], b[14], b[15]}));
    }
    return std::nullopt;
}

core::error url_error(std::string message, std::string rule) {
    return core::error::field(core::errc::unprocessable, std::move(message), "url", std::move(rule));
}

}  // namespace

std::string sign_delivery(std::string_view secret, std::string_view timestamp, std::string_view body) {
    std::string signed_text;
    signed_text.reserve(timestamp.size() + 1 + body.size());
    signed_text.append(timestamp).append(".").append(body);
    return "v1=" + crypto::hex(crypto::hmac_sha256(secret, signed_text));
}

std::string new_signing_secret() {
    std::array<unsigned char, 32> bytes{};
    crypto::random_bytes(bytes);
    return "whsec_" + crypto::hex(bytes);
}

std::optional<std::string> refused_address(std::string_view address) {
    boost::system::error_code ec;
    const auto a = boost::asio::ip::make_address(std::string(address), ec);
    if (ec) return "not an IP address";
    return a.is_v4() ? refused_v4(a.to_v4()) : refused_v6(a.to_v6());
}

core::result<void> check_webhook_url(std::string_view url, bool allow_private) {
    if (url.empty()) return core::fail(url_error("url must not be empty", "required"));
    if (url.size() > max_webhook_url_length) {
        return core::fail(url_error("url is longer than 2048 characters", "max_length:2048"));
    }
    const auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return core::fail(url_error("url is not an absolute URL", "absolute_url"));
    const auto scheme = parsed->scheme_id();
    if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https) {
        return core::fail(url_error("url must use http or https", "scheme:http,https"));
    }
    if (parsed->has_userinfo()) {
        return core::fail(url_error("url must not carry a user name or password", "no_userinfo"));
    }
    if (parsed->has_fragment()) return core::fail(url_error("url must not have a fragment", "no_fragment"));
    if (parsed->encoded_host().empty()) return core::fail(url_error("url must name a host", "host_required"));
    // Boost.URL 1.81 reads "http://1.2.3.4.example.com/" as host 1.2.3.4 and path ".example.com/";
    // after an authority a path must start with '/', so such a split is that misreading: refuse
    // it rather than deliver to another host than the one named.
    if (!parsed->encoded_path().empty() && !parsed->encoded_path().starts_with('/')) {
        return core::fail(url_error(
            "url has a host name that starts with an IPv4 address, which is not supported", "host_name"));
    }
    if (allow_private) return {};

    std::string host(parsed->encoded_host());
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    host = core::ascii_lower(host);
    if (host.ends_with(".")) host.pop_back();
    if (host == "localhost" || host.ends_with(".localhost")) {
        return core::fail(
            url_error("url points at this machine (localhost); start the server with "
                      "--allow-private-webhooks to allow it",
                      "public_address"));
    }
    // An IP literal is judged now; a name when connecting, by every address it resolves to.
    boost::system::error_code not_an_address;
    (void)boost::asio::ip::make_address(host, not_an_address);
    if (!not_an_address) {
        if (auto why = refused_address(host)) {
            return core::fail(url_error("url points at a " + *why +
                                            " address; start the server with "
                                            "--allow-private-webhooks to allow it",
                                        "public_address"));
        }
    }
    return {};
}

}  // namespace dinex::notify
