#include "aws/trust_store.hpp"

#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <system_error>

namespace dinex::aws {

std::string trust_store::describe() const {
    std::string out;
    if (!file.empty()) out = "file " + file;
    if (!directory.empty()) out += (out.empty() ? "directory " : ", directory ") + directory;
    return out + " (" + source + ")";
}

std::expected<trust_store, std::string> choose_trust_store(const trust_store_probe& probe) {
    if (!probe.ssl_cert_file.empty() || !probe.ssl_cert_dir.empty()) {
        trust_store chosen;
        chosen.source = "SSL_CERT_FILE/SSL_CERT_DIR";
        if (!probe.ssl_cert_file.empty()) {
            if (!probe.is_file(probe.ssl_cert_file)) {
                return std::unexpected("SSL_CERT_FILE=" + probe.ssl_cert_file + " is not a readable file");
            }
            chosen.file = probe.ssl_cert_file;
        }
        if (!probe.ssl_cert_dir.empty()) {
            if (!probe.is_hashed_directory(probe.ssl_cert_dir)) {
                return std::unexpected("SSL_CERT_DIR=" + probe.ssl_cert_dir +
                                       " is not a directory of hashed certificates (openssl rehash)");
            }
            chosen.directory = probe.ssl_cert_dir;
        }
        return chosen;
    }

    std::vector<std::string> tried;
    auto try_file = [&](const std::string& path, std::string_view source) -> std::optional<trust_store> {
        if (path.empty() || std::find(tried.begin(), tried.end(), path) != tried.end()) return std::nullopt;
        tried.push_back(path);
        if (!probe.is_file(path)) return std::nullopt;
        return trust_store{.file = path, .directory = {}, .source = std::string(source)};
    };
    auto try_directory = [&](const std::string& path, std::string_view source) -> std::optional<trust_store> {
        if (path.empty() || std::find(tried.begin(), tried.end(), path) != tried.end()) return std::nullopt;
        tried.push_back(path);
        if (!probe.is_hashed_directory(path)) return std::nullopt;
        return trust_store{.file = {}, .directory = path, .source = std::string(source)};
    };

    for (const auto path : known_bundle_files) {
        if (auto found = try_file(std::string(path), "known bundle")) return *found;
    }
    if (auto found = try_file(probe.openssl_default_file, "OpenSSL default")) return *found;
    if (auto found = try_directory(probe.openssl_default_dir, "OpenSSL default")) return *found;
    for (const auto path : known_hashed_directories) {
        if (auto found = try_directory(std::string(path), "known hashed directory")) return *found;
    }
    std::string message =
        "no CA trust store found to verify TLS: SSL_CERT_FILE and SSL_CERT_DIR are not set and "
        "none of these exists: ";
    for (std::size_t i = 0; i < tried.size(); ++i) message += (i ? ", " : "") + tried[i];
    return std::unexpected(message + " (set SSL_CERT_FILE to a PEM bundle of trusted CAs)");
}

namespace {

bool is_hash_name(const std::string& name) {
    // <8 hex digits>.<digits>, as `openssl rehash` names certificate links.
    if (name.size() < 10 || name[8] != '.') return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (i == 8) continue;
        const auto c = static_cast<unsigned char>(name[i]);
        if (i < 8 ? !std::isxdigit(c) : !std::isdigit(c)) return false;
    }
    return true;
}

}  // namespace

trust_store_probe system_trust_store_probe() {
    trust_store_probe probe;
    if (const char* v = std::getenv(X509_get_default_cert_file_env())) probe.ssl_cert_file = v;
    if (const char* v = std::getenv(X509_get_default_cert_dir_env())) probe.ssl_cert_dir = v;
    probe.openssl_default_file = X509_get_default_cert_file();
    probe.openssl_default_dir = X509_get_default_cert_dir();
    probe.is_file = [](const std::string& path) {
        std::error_code ec;
        return std::filesystem::is_regular_file(path, ec);
    };
    probe.is_hashed_directory = [](const std::string& path) {
        std::error_code ec;
        for (std::filesystem::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
            if (is_hash_name(it->path().filename().string())) return true;
        }
        return false;
    };
    return probe;
}

}  // namespace dinex::aws
