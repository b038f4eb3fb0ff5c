#include "stats.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

namespace fake_api {

namespace {

constexpr std::array<int, 6> k_reported_statuses{200, 400, 429, 500, 503, 403};
constexpr std::uint64_t k_count_mask = 0xff;

}  // namespace

long SecondCounter::arrive(std::time_t now) {
    if (now != m_second) {
        m_second = now;
        m_count = 0;
    }
    return ++m_count;
}

void ItemCounter::add(std::uint64_t hash) {
    if ((m_used + 1) * 10 > m_slots.size() * 7) grow();
    std::uint64_t key = hash & ~k_count_mask;
    if (key == 0) key = k_count_mask + 1;
    const std::size_t mask = m_slots.size() - 1;
    for (std::size_t i = static_cast<std::size_t>(key >> 8) & mask;; i = (i + 1) & mask) {
        std::uint64_t& slot = m_slots[i];
        if (slot == 0) {
            slot = key | 1;
            ++m_used;
            m_max = std::max(m_max, 1U);
            return;
        }
        if ((slot & ~k_count_mask) != key) continue;
        const auto count = static_cast<unsigned>(slot & k_count_mask);
        if (count == 1) ++m_repeated;
        if (count < k_count_mask) ++slot;
        m_max = std::max(m_max, static_cast<unsigned>(slot & k_count_mask));
        return;
    }
}

void ItemCounter::grow() {
    const std::size_t size = std::max<std::size_t>(1024, m_slots.size() * 2);
    std::vector<std::uint64_t> old = std::exchange(m_slots, std::vector<std::uint64_t>(size));
    const std::size_t mask = m_slots.size() - 1;
    for (std::uint64_t slot : old) {
        if (slot == 0) continue;
        std::size_t i = static_cast<std::size_t>(slot >> 8) & mask;
        while (m_slots[i] != 0) i = (i + 1) & mask;
        m_slots[i] = slot;
    }
}

void ItemCounter::clear() {
    m_slots = {};
    m_used = 0;
    m_repeated = 0;
    m_max = 0;
}

std::uint64_t request_hash(const std::string& path, const std::multimap<std::string, std::string>& params) {
    std::vector<std::pair<std::string_view, std::string_view>> sorted(params.begin(), params.end());
    std::sort(sorted.begin(), sorted.end());
    // Separators that cannot occur in a decoded path, key or value keep "a=b&c" and "a=b%26c" apart.
    std::string canonical = path;
    for (const auto& [key, value] : sorted) {
        canonical += '\0';
        canonical += key;
        canonical += '\x01';
        canonical += value;
    }
    return hash_text(canonical);
}

void Stats::on_arrival(Endpoint endpoint) {
    const std::time_t now = std::time(nullptr);
    std::lock_guard lock(m_mutex);
    ++m_requests[static_cast<std::size_t>(endpoint)];
    ++m_total;
    m_max_per_second = std::max(m_max_per_second, m_second.arrive(now));
    m_max_in_flight = std::max(m_max_in_flight, ++m_in_flight);
}

void Stats::on_answer(const AnswerRecord& record) {
    std::lock_guard lock(m_mutex);
    ++m_answered[record.status];
    m_truncated += record.truncated ? 1 : 0;
    m_huge += record.huge ? 1 : 0;
    m_bombs += record.bomb ? 1 : 0;
    m_gzipped += record.gzipped ? 1 : 0;
    m_wire_bytes += record.wire_bytes;
    m_plain_bytes += record.plain_bytes;
    if (!record.error_name.empty()) ++m_errors[record.error_name];
    if (record.item != 0) {
        m_items.add(record.item);
        ++m_paths[record.path];
    }
    --m_in_flight;
}

Json Stats::to_json() const {
    std::lock_guard lock(m_mutex);
    Json requests = Json::object();
    for (std::size_t e = 0; e < k_endpoint_count; ++e) {
        requests[std::string(endpoint_name(static_cast<Endpoint>(e)))] = m_requests[e];
    }
    Json answered = Json::object();
    for (int status : k_reported_statuses) answered[std::to_string(status)] = 0;
    for (const auto& [status, count] : m_answered) answered[std::to_string(status)] = count;
    Json errors = Json::object();
    for (const auto& [name, count] : m_errors) errors[name] = count;
    Json paths = Json::object();
    for (const auto& [path, count] : m_paths) paths[path] = count;
    return Json{{"requests", requests},
                {"total", m_total},
                {"errors", errors},
                {"huge", m_huge},
                {"answered", answered},
                {"truncated", m_truncated},
                {"max_per_second", m_max_per_second},
                {"in_flight", m_in_flight},
                {"max_in_flight", m_max_in_flight},
                {"gzip_bombs", m_bombs},
                {"gzipped", m_gzipped},
                {"bytes_sent", m_wire_bytes},
                {"bytes_plain", m_plain_bytes},
                {"items_answered", m_items.distinct()},
                {"items_answered_more_than_once", m_items.more_than_once()},
                {"items_answered_max", m_items.max()},
                {"paths", paths}};
}

void Stats::reset() {
    std::lock_guard lock(m_mutex);
    m_requests.fill(0);
    m_total = 0;
    m_answered.clear();
    m_truncated = 0;
    m_huge = 0;
    m_bombs = 0;
    m_gzipped = 0;
    m_wire_bytes = 0;
    m_plain_bytes = 0;
    m_errors.clear();
    m_paths.clear();
    m_items.clear();
    m_second = SecondCounter{};
    m_max_per_second = 0;
    m_max_in_flight = m_in_flight;
}

}  // namespace fake_api
