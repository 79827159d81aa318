#pragma once
// Where the CA certificates that verify AWS endpoints live. The Lambda package links OpenSSL
// statically from Debian, whose compiled-in default (/usr/lib/ssl) does not exist on Amazon Linux
// 2023 (provided.al2023): the bundle is found among the places each distribution keeps it instead.
// The choice is pure (file tests are passed in) so that every layout is provable offline.
#include <expected>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dinex::aws {

// PEM bundles, in the order they are tried: Amazon Linux / RHEL / Fedora first (where the package
// runs), then Debian / Ubuntu, Alpine, SUSE.
inline constexpr std::string_view known_bundle_files[] = {
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/pki/tls/cert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/cert.pem",
    "/etc/ssl/ca-bundle.pem",
};
// Directories of certificates named by subject hash (c_rehash / openssl rehash).
inline constexpr std::string_view known_hashed_directories[] = {
    "/etc/ssl/certs",
    "/etc/pki/tls/certs",
};

struct trust_store {
    std::string file;       // a PEM bundle, or empty
    std::string directory;  // a hashed directory, or empty
    std::string source;     // why this one: "SSL_CERT_FILE", "found", "OpenSSL default" …

    std::string describe() const;
};

struct trust_store_probe {
    std::string ssl_cert_file;                        // $SSL_CERT_FILE, empty when unset
    std::string ssl_cert_dir;                         // $SSL_CERT_DIR, empty when unset
    std::string openssl_default_file;                 // X509_get_default_cert_file() of the linked OpenSSL
    std::string openssl_default_dir;                  // X509_get_default_cert_dir()
    std::function<bool(const std::string&)> is_file;  // exists and is a regular file (after links)
    // A directory holding at least one <8 hex digits>.<n> certificate link.
    std::function<bool(const std::string&)> is_hashed_directory;
};

// SSL_CERT_FILE / SSL_CERT_DIR when set (they must then exist: a wrong setting is an error, not a
// silent fallback); otherwise the first known bundle file, then OpenSSL's default file, then the
// first hashed directory (OpenSSL's default one first). The error names every path tried.
std::expected<trust_store, std::string> choose_trust_store(const trust_store_probe& probe);

// The probe of this process: the environment, the linked OpenSSL's defaults, the file system.
trust_store_probe system_trust_store_probe();

}  // namespace dinex::aws
