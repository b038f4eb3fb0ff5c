#pragma once
// Checks of configured URLs that warn rather than refuse: the API key travels in a header, so plain http://
// to anything but this machine sends it in clear.

#include <optional>
#include <string>
#include <string_view>

#include "core/config/config.hpp"

namespace pipeline::core {

/// True when the host of `url` ("http://HOST[:PORT]/...") is this machine: localhost, 127.0.0.0/8 or [::1].
bool is_loopback_url(std::string_view url);

/// The warning to print once when api.base_url is plain http:// to a host that is not loopback (the API key
/// would cross the network unencrypted); nullopt otherwise.
std::optional<std::string> plain_http_warning(const Config& config);

} // namespace pipeline::core
