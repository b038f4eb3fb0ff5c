#pragma once

#include "common.hpp"

#include <array>
#include <ctime>
#include <map>
#include <mutex>
#include <string>

namespace fake_api {

/// Counts requests that arrive within the current calendar second (time(NULL)).
class SecondCounter {
public:
    /// Records one arrival now and returns the number of arrivals in this second so far.
    long arrive(std::time_t now);

private:
    std::time_t m_second = 0;
    long m_count = 0;
};

/// Thread-safe counters of API traffic, served by /_stats.
class Stats {
public:
    /// Records the arrival of an API request and marks it in flight.
    void on_arrival(Endpoint endpoint);

    /// Records the answer of an API request (its error name when it is an error, whether it was cut or
    /// oversized) and ends its flight.
    void on_answer(int status, bool truncated, const std::string& error_name = {}, bool huge = false);

    /// The /_stats document.
    Json to_json() const;

    /// Zeroes every counter (in_flight stays, max_in_flight restarts from it).
    void reset();

private:
    mutable std::mutex m_mutex;
    std::array<long, k_endpoint_count> m_requests{};
    long m_total = 0;
    std::map<int, long> m_answered;
    long m_truncated = 0;
    long m_huge = 0;
    std::map<std::string, long> m_errors;
    SecondCounter m_second;
    long m_max_per_second = 0;
    long m_in_flight = 0;
    long m_max_in_flight = 0;
};

/// Marks an API request in flight for its lifetime; the answer is recorded on destruction.
class RequestScope {
public:
    /// Records the arrival of a request to endpoint.
    RequestScope(Stats& stats, Endpoint endpoint) : m_stats(stats) { m_stats.on_arrival(endpoint); }

    /// Records the answer with the status and truncation set so far.
    ~RequestScope() { m_stats.on_answer(m_status, m_truncated, m_error_name, m_huge); }

    RequestScope(const RequestScope&) = delete;
    RequestScope& operator=(const RequestScope&) = delete;

    /// Sets the status and truncation that will be recorded.
    void answer(int status, bool truncated, std::string error_name = {}, bool huge = false) {
        m_status = status;
        m_truncated = truncated;
        m_error_name = std::move(error_name);
        m_huge = huge;
    }

private:
    Stats& m_stats;
    int m_status = 500;
    bool m_truncated = false;
    std::string m_error_name;
    bool m_huge = false;
};

}  // namespace fake_api
