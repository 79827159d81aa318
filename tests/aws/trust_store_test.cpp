// The trust store choice on the file layouts the Lambda package meets: Amazon Linux 2023
// (provided.al2023), Debian, Alpine, SUSE, a hashed directory only, explicit SSL_CERT_FILE /
// SSL_CERT_DIR, and nothing at all. Pure: the file tests are a fake file system.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "aws/http_client.hpp"
#include "aws/trust_store.hpp"

namespace dinex {
namespace {

// What the Lambda package links: Debian's OpenSSL, whose defaults are under /usr/lib/ssl.
aws::trust_store_probe layout(std::set<std::string> files, std::set<std::string> hashed_dirs = {}) {
    aws::trust_store_probe p;
    p.openssl_default_file = "/usr/lib/ssl/cert.pem";
    p.openssl_default_dir = "/usr/lib/ssl/certs";
    p.is_file = [files](const std::string& path) { return files.contains(path); };
    p.is_hashed_directory = [hashed_dirs](const std::string& path) { return hashed_dirs.contains(path); };
    return p;
}

TEST(TrustStore, AmazonLinux2023UsesItsCaBundleNotOpenSslsDefault) {
    const auto chosen =
        aws::choose_trust_store(layout({"/etc/pki/tls/certs/ca-bundle.crt", "/etc/pki/tls/cert.pem",
                                        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"}));
    ASSERT_TRUE(chosen) << chosen.error();
    EXPECT_EQ(chosen->file, "/etc/pki/tls/certs/ca-bundle.crt");
    EXPECT_EQ(chosen->directory, "");
}

TEST(TrustStore, EachDistributionsBundleIsFound) {
    for (const std::string path :
         {"/etc/pki/tls/cert.pem", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
          "/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/cert.pem", "/etc/ssl/ca-bundle.pem",
          "/usr/lib/ssl/cert.pem"}) {
        const auto chosen = aws::choose_trust_store(layout({path}));
        ASSERT_TRUE(chosen) << path << ": " << chosen.error();
        EXPECT_EQ(chosen->file, path);
    }
}

TEST(TrustStore, AHashedDirectoryWhenNoBundleExists) {
    auto chosen = aws::choose_trust_store(layout({}, {"/etc/pki/tls/certs"}));
    ASSERT_TRUE(chosen) << chosen.error();
    EXPECT_EQ(chosen->file, "");
    EXPECT_EQ(chosen->directory, "/etc/pki/tls/certs");
    chosen = aws::choose_trust_store(layout({}, {"/etc/ssl/certs", "/usr/lib/ssl/certs"}));
    ASSERT_TRUE(chosen) << chosen.error();
    EXPECT_EQ(chosen->directory, "/usr/lib/ssl/certs");  // OpenSSL's own default first
}

TEST(TrustStore, SslCertFileAndDirWinAndMustExist) {
    auto p = layout({"/etc/pki/tls/certs/ca-bundle.crt", "/opt/ca.pem"}, {"/opt/certs"});
    p.ssl_cert_file = "/opt/ca.pem";
    auto chosen = aws::choose_trust_store(p);
    ASSERT_TRUE(chosen) << chosen.error();
    EXPECT_EQ(chosen->file, "/opt/ca.pem");
    EXPECT_EQ(chosen->source, "SSL_CERT_FILE/SSL_CERT_DIR");

    p.ssl_cert_dir = "/opt/certs";
    chosen = aws::choose_trust_store(p);
    ASSERT_TRUE(chosen) << chosen.error();
    EXPECT_EQ((std::pair{chosen->file, chosen->directory}),
              (std::pair<std::string, std::string>{"/opt/ca.pem", "/opt/certs"}));

    // A wrong setting is an error, not a silent fall back to another store.
    p.ssl_cert_file = "/opt/missing.pem";
    chosen = aws::choose_trust_store(p);
    ASSERT_FALSE(chosen);
    EXPECT_NE(chosen.error().find("SSL_CERT_FILE=/opt/missing.pem"), std::string::npos) << chosen.error();
    p.ssl_cert_file.clear();
    p.ssl_cert_dir = "/opt/nothing";
    ASSERT_FALSE(aws::choose_trust_store(p));
}

TEST(TrustStore, NothingFoundNamesEveryPathTried) {
    const auto chosen = aws::choose_trust_store(layout({}));
    ASSERT_FALSE(chosen);
    for (const auto path : aws::known_bundle_files) {
        EXPECT_NE(chosen.error().find(path), std::string::npos) << path << " in " << chosen.error();
    }
    for (const auto path : aws::known_hashed_directories) {
        EXPECT_NE(chosen.error().find(path), std::string::npos) << path << " in " << chosen.error();
    }
    EXPECT_NE(chosen.error().find("/usr/lib/ssl/cert.pem"), std::string::npos) << chosen.error();
    EXPECT_NE(chosen.error().find("SSL_CERT_FILE"), std::string::npos) << chosen.error();
}

TEST(TrustStore, OnlyHttpsEndpointsNeedIt) {
    const aws::tls_context none(std::unexpected(std::string("no CA trust store found")), {});
    EXPECT_EQ(aws::missing_trust_for(none, "http://127.0.0.1:4566"), std::nullopt);
    const auto missing = aws::missing_trust_for(none, "https://dynamodb.us-east-1.amazonaws.com");
    ASSERT_TRUE(missing);
    EXPECT_NE(missing->find("https://dynamodb.us-east-1.amazonaws.com"), std::string::npos);
    EXPECT_NE(missing->find("no CA trust store found"), std::string::npos);
    const aws::tls_context found(
        aws::trust_store{.file = "/etc/pki/tls/cert.pem", .directory = {}, .source = "x"}, {});
    EXPECT_EQ(aws::missing_trust_for(found, "https://sns.us-east-1.amazonaws.com"), std::nullopt);
    EXPECT_EQ(found.loads(), 0);  // choosing parses nothing
}

}  // namespace
}  // namespace dinex
