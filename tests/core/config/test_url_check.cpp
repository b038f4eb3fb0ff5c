// The warning about plain http:// to another machine.

#include <doctest/doctest.h>

#include "core/config/url_check.hpp"

using pipeline::core::is_loopback_url;

TEST_CASE("is_loopback_url knows this machine's names") {
    CHECK(is_loopback_url("http://127.0.0.1:8080"));
    CHECK(is_loopback_url("http://127.5.6.7/x"));
    CHECK(is_loopback_url("http://localhost"));
    CHECK(is_loopback_url("http://LOCALHOST:99"));
    CHECK(is_loopback_url("http://[::1]:8080/"));
    CHECK_FALSE(is_loopback_url("http://open.api.nexon.com"));
    CHECK_FALSE(is_loopback_url("http://127.0.0.1.evil.example"));
    CHECK_FALSE(is_loopback_url("http://10.0.0.1:8080"));
}

TEST_CASE("plain_http_warning warns for http:// to another host only, never echoing credentials") {
    pipeline::core::Config config;
    config.api.base_url = "https://open.api.nexon.com";
    CHECK_FALSE(pipeline::core::plain_http_warning(config).has_value());
    config.api.base_url = "http://127.0.0.1:8080";
    CHECK_FALSE(pipeline::core::plain_http_warning(config).has_value());
    config.api.base_url = "http://user:secret@open.api.nexon.com";
    const std::optional<std::string> warning = pipeline::core::plain_http_warning(config);
    REQUIRE(warning.has_value());
    CHECK(warning->find("open.api.nexon.com") != std::string::npos);
    CHECK(warning->find("unencrypted") != std::string::npos);
    CHECK(warning->find("secret") == std::string::npos);
}
