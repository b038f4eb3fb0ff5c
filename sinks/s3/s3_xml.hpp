#pragma once
// The little XML that S3 answers with (flat elements, no attributes) and the escaping of the XML we send.
// Kept apart from the sink so that a fuzz harness (tests/fuzz/fuzz_s3_xml.cpp) can feed it arbitrary bytes.

#include <string>
#include <string_view>
#include <vector>

namespace pipeline::sinks {

/// Decodes XML entities (&amp; &lt; &gt; &quot; &apos; and numeric ones) to UTF-8; anything that is not
/// a known entity is kept as it is. Never fails.
std::string xml_decode(std::string_view text);

/// Escapes '&', '<' and '>' for use as element text.
std::string xml_escape(std::string_view text);

/// The raw contents of every <tag>...</tag> in `xml`, in order (views into `xml`). Enough for S3's flat,
/// attribute-free answers; "<Upload>" does not match "<UploadId>" because the '>' is part of the needle.
std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag);

/// The decoded text of the first <tag> in `xml`, or "" when there is none.
std::string xml_value(std::string_view xml, std::string_view tag);

} // namespace pipeline::sinks
