#include "stats.hpp"

#include <algorithm>

namespace fake_api {

namespace {

constexpr std::array<int, 6> k_reported_statuses{200, 400, 429, 500, 503, 403};

}  // namespace

long SecondCounter::arrive(std::time_t now) {
    if (now != m_second) {
        m_second = now;
        m_count = 0;
    }
    return ++m_count;
}

void Stats::on_arrival(Endpoint endpoint) {
    const std::time_t now = std::time(nullptr);
    std::lock_guard lock(m_mutex);
    ++m_requests[static_cast<std::size_t>(endpoint)];
    ++m_total;
    m_max_per_second = std::max(m_max_per_second, m_second.arrive(now));
    m_max_in_flight = std::max(m_max_in_flight, ++m_in_flight);
}

void Stats::on_answer(int status, bool truncated, const std::string& error_name, bool huge) {
    std::lock_guard lock(m_mutex);
    ++m_answered[status];
    m_truncated += truncated ? 1 : 0;
    m_huge += huge ? 1 : 0;
    if (!error_name.empty()) ++m_errors[error_name];
    --m_in_flight;
}

Json Stats::to_json() const {
    std::lock_guard lock(m_mutex);
    Json requests = Json::object();
    for (int e = 0; e < k_endpoint_count; ++e) {
        requests[std::string(endpoint_name(static_cast<Endpoint>(e)))] = m_requests[static_cast<std::size_t>(e)];
    }
    Json answered = Json::object();
    for (int status : k_reported_statuses) answered[std::to_string(status)] = 0;
    for (const auto& [status, count] : m_answered) answered[std::to_string(status)] = count;
    Json errors = Json::object();
    for (const auto& [name, count] : m_errors) errors[name] = count;
    return Json{{"requests", requests},          {"total", m_total},
                          {"errors", errors},              {"huge", m_huge},
                          {"answered", answered},          {"truncated", m_truncated},
                          {"max_per_second", m_max_per_second}, {"in_flight", m_in_flight},
                          {"max_in_flight", m_max_in_flight}};
}

void Stats::reset() {
    std::lock_guard lock(m_mutex);
    m_requests.fill(0);
    m_total = 0;
    m_answered.clear();
    m_truncated = 0;
    m_huge = 0;
    m_errors.clear();
    m_second = SecondCounter{};
    m_max_per_second = 0;
    m_max_in_flight = m_in_flight;
}

}  // namespace fake_api
