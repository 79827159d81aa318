// src/crypto on published vectors: SHA-256 from FIPS 180-2 (appendix B), HMAC-SHA256 from RFC 4231.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "crypto/crypto.hpp"

namespace crypto = dinex::crypto;

namespace {

std::string hex_sha256(std::string_view data) { return crypto::hex(crypto::sha256(data)); }
std::string hex_hmac(std::string_view key, std::string_view data) {
    return crypto::hex(crypto::hmac_sha256(key, data));
}

}  // namespace

TEST(Sha256, Fips180Vectors) {
    EXPECT_EQ(hex_sha256(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(hex_sha256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hex_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(hex_sha256(std::string(1'000'000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(HmacSha256, Rfc4231Vectors) {
    EXPECT_EQ(hex_hmac(std::string(20, '\x0b'), "Hi There"),  // case 1
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    EXPECT_EQ(hex_hmac("Jefe", "what do ya want for nothing?"),  // case 2: a key shorter than the output
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(hex_hmac(std::string(20, '\xaa'), std::string(50, '\xdd')),  // case 3
              "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    EXPECT_EQ(hex_hmac(std::string(131, '\xaa'),
                       "Test Using Larger Than Block-Size Key - Hash Key First"),  // case 6
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    EXPECT_EQ(
        hex_hmac(
            std::string(131, '\xaa'),  // case 7
            "This is a test using a larger than block-size key and a larger than block-size data. The key "
            "needs to be hashed before being used by the HMAC algorithm."),
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(Hex, LowerCaseTwoDigitsAByte) {
    const std::array<unsigned char, 5> bytes{0x00, 0x0f, 0xa0, 0x7e, 0xff};
    EXPECT_EQ(crypto::hex(bytes), "000fa07eff");
    EXPECT_EQ(crypto::hex({}), "");
}

TEST(RandomBytes, FillsTheWholeBufferDifferentlyEachTime) {
    std::array<unsigned char, 32> a{};
    std::array<unsigned char, 32> b{};
    crypto::random_bytes(a);
    crypto::random_bytes(b);
    EXPECT_NE(a, b);  // equal with probability 2^-256
    // Every byte position is written: over 64 draws, a position still zero in all of them would
    // happen with probability 256^-64.
    std::array<unsigned char, 32> seen{};
    for (int i = 0; i < 64; ++i) {
        crypto::random_bytes(a);
        for (std::size_t k = 0; k < a.size(); ++k) seen[k] |= a[k];
    }
    EXPECT_TRUE(std::ranges::none_of(seen, [](unsigned char x) { return x == 0; }));
}

TEST(EqualConstantTime, ComparesContentAndLength) {
    EXPECT_TRUE(crypto::equal_constant_time("", ""));
    EXPECT_TRUE(crypto::equal_constant_time("abc", "abc"));
    EXPECT_FALSE(crypto::equal_constant_time("abc", "abd"));
    EXPECT_FALSE(crypto::equal_constant_time("abc", "ab"));
    EXPECT_FALSE(crypto::equal_constant_time("", "a"));
}

TEST(Wipe, ZeroesTheBytes) {
    std::array<unsigned char, 4> key{1, 2, 3, 4};
    crypto::wipe(key);
    EXPECT_EQ(key, (std::array<unsigned char, 4>{}));
    std::string secret = "AWS4secret";
    crypto::wipe(secret);
    EXPECT_EQ(secret, std::string(10, '\0'));
}

// RFC 4648, section 10.
TEST(Base64, TheRfc4648VectorsRoundTrip) {
    const std::array<std::pair<std::string, std::string>, 7> vectors{{{"", ""},
                                                                      {"f", "Zg=="},
                                                                      {"fo", "Zm8="},
                                                                      {"foo", "Zm9v"},
                                                                      {"foob", "Zm9vYg=="},
                                                                      {"fooba", "Zm9vYmE="},
                                                                      {"foobar", "Zm9vYmFy"}}};
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(crypto::base64_encode(plain), encoded);
        EXPECT_EQ(crypto::base64_decode(encoded), plain) << encoded;
    }
    const std::string binary{"\x00\xff\x10\x80", 4};
    EXPECT_EQ(crypto::base64_decode(crypto::base64_encode(binary)), binary);
}

TEST(Base64, AnythingButPaddedBase64IsRefused) {
    for (const char* bad : {"Zg", "Zg=", "Z===", "Zg=a", " Zg==", "Zm9v\n", "Zm9*", "=Zm9"}) {
        EXPECT_FALSE(crypto::base64_decode(bad).has_value()) << bad;
    }
}
