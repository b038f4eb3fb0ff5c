// Fuzzes the S3 answer parsing (sinks/s3/s3_xml): listings, error codes and upload ids are read out of any
// bytes without crashing, and escaping then decoding gives the text back.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sinks/s3/s3_xml.hpp"

using namespace pipeline::sinks;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view xml(reinterpret_cast<const char*>(data), size);
    for (const std::string_view key : xml_elements(xml, "Key")) {
        (void)xml_decode(key);
    }
    for (const std::string_view upload : xml_elements(xml, "Upload")) {
        (void)xml_value(upload, "Key");
        (void)xml_value(upload, "UploadId");
    }
    for (const char* tag : {"Code", "Message", "IsTruncated", "NextContinuationToken", "UploadId", "ETag"}) {
        (void)xml_value(xml, tag);
    }
    if (xml_decode(xml_escape(xml)) != xml) {
        std::abort();
    }
    return 0;
}
