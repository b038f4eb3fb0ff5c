#pragma once

#include "common.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace fake_api {

/// Everything that determines one character's item-equipment document.
struct ItemRequest {
    std::uint64_t seed = 0;        ///< per-character hash the item attributes derive from
    std::string date;              ///< the "date" field (already formatted)
    std::string gender;            ///< the "character_gender" field
    std::string character_class;   ///< the "character_class" field
    std::size_t target_bytes = 0;  ///< approximate size of the serialised document
    bool real = false;             ///< the live API's shape: equipment plus three presets (~220 KB); ignores target_bytes
};

/// Builds a realistic item-equipment JSON body: about target_bytes bytes (at least one item), or with `real` the
/// live API's full shape (24 equipped items and three presets of 24, each item with a dozen option blocks).
std::string make_item_equipment(const ItemRequest& request);

}  // namespace fake_api
