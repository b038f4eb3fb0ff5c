#pragma once

#include "common.hpp"
#include "endpoints.hpp"

#include <array>
#include <cstdint>
#include <ctime>
#include <map>
#include <mutex>
#include <string>
#include <vector>

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

/// Counts answers per distinct request in one flat table of 64-bit words (56 bits of the request's hash,
/// 8 bits of count, saturating at 255): about 16 bytes per request, so millions of items stay cheap.
class ItemCounter {
public:
    /// Counts one answer to the request with this hash.
    void add(std::uint64_t hash);

    /// Number of distinct requests counted.
    std::size_t distinct() const { return m_used; }

    /// Number of distinct requests counted more than once.
    std::size_t more_than_once() const { return m_repeated; }

    /// The most answers any one request got (255 means 255 or more).
    unsigned max() const { return m_max; }

    /// Forgets every request.
    void clear();

private:
    void grow();

    std::vector<std::uint64_t> m_slots;  // 0 = empty
    std::size_t m_used = 0;
    std::size_t m_repeated = 0;
    unsigned m_max = 0;
};

/// What the fake did with one API request, recorded when it is answered.
struct AnswerRecord {
    int status = 500;              ///< HTTP status
    std::string error_name;        ///< OPENAPI000NN, "lb_503", or empty for a 200
    bool truncated = false;        ///< cut after half the body
    bool huge = false;             ///< the oversized answer of --huge-first
    bool bomb = false;             ///< the gzip bomb of --gzip-bomb-first
    bool gzipped = false;          ///< sent gzip-encoded because the request accepted it
    std::size_t wire_bytes = 0;    ///< body bytes sent (or begun to be sent)
    std::size_t plain_bytes = 0;   ///< the same body before gzip
    std::uint64_t item = 0;        ///< hash of the canonical request of a good 200 (0: not counted)
    std::string path;              ///< the path of a good 200
};

/// Thread-safe counters of API traffic, served by /_stats.
class Stats {
public:
    /// Records the arrival of an API request and marks it in flight.
    void on_arrival(Endpoint endpoint);

    /// Records the answer of an API request and ends its flight.
    void on_answer(const AnswerRecord& record);

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
    long m_bombs = 0;
    long m_gzipped = 0;
    unsigned long long m_wire_bytes = 0;
    unsigned long long m_plain_bytes = 0;
    std::map<std::string, long> m_errors;
    std::map<std::string, long> m_paths;
    ItemCounter m_items;
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

    /// Records the answer as set so far.
    ~RequestScope() { m_stats.on_answer(m_record); }

    RequestScope(const RequestScope&) = delete;
    RequestScope& operator=(const RequestScope&) = delete;

    /// The record to fill in while answering.
    AnswerRecord& record() { return m_record; }

private:
    Stats& m_stats;
    AnswerRecord m_record;
};

/// The hash that identifies a request for per-item counting: its path and its query parameters sorted by key
/// (then value), so the order a client writes them in does not matter.
std::uint64_t request_hash(const std::string& path, const std::multimap<std::string, std::string>& params);

}  // namespace fake_api
