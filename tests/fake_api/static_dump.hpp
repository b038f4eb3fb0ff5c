#pragma once

#include "dataset.hpp"

#include <string>

namespace fake_api {

/// Writes the fault-free bodies for one date as files nginx can serve with try_files; throws on I/O errors.
/// Layout: id/<url-encoded name>.json, basic/<ocid>.json, item-equipment/<ocid>.json, ranking/<page>.json
/// and urls-item-equipment.txt (one path+query per served ocid). Refused names/ocids get no file.
void dump_static(const Dataset& dataset, const std::string& directory, const std::string& date);

}  // namespace fake_api
