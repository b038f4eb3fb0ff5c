#include "core/fetch/fetcher.hpp"

#include <algorithm>
#include <queue>
#include <unordered_map>
#include <vector>

namespace pipeline::core {

using namespace std::chrono;

namespace {

struct Pending {
    FetchTask task;
    int attempt = 1; ///< the attempt about to be made (1 = first)
    steady_clock::time_point due{};
};

struct LaterDue {
    bool operator()(const Pending& a, const Pending& b) const { return a.due > b.due; }
};

void count_retry(FetchCounters& counters, RetryClass retry_class) {
    counters.retries.fetch_add(1, std::memory_order_relaxed);
    switch (retry_class) {
    case RetryClass::RateLimited:
        counters.retries_rate_limited.fetch_add(1, std::memory_order_relaxed);
        break;
    case RetryClass::ServerError:
        counters.retries_server.fetch_add(1, std::memory_order_relaxed);
        break;
    case RetryClass::DataPreparing:
        counters.retries_preparing.fetch_add(1, std::memory_order_relaxed);
        break;
    case RetryClass::Transport:
        counters.retries_transport.fetch_add(1, std::memory_order_relaxed);
        break;
    case RetryClass::BadBody:
        counters.retries_bad_body.fetch_add(1, std::memory_order_relaxed);
        break;
    case RetryClass::None:
        break;
    }
}

} // namespace

void FetchCounters::copy_to(Progress& progress) const {
    progress.requests = requests.load(std::memory_order_relaxed);
    progress.retries = retries.load(std::memory_order_relaxed);
    progress.retries_rate_limited = retries_rate_limited.load(std::memory_order_relaxed);
    progress.retries_server = retries_server.load(std::memory_order_relaxed);
    progress.retries_preparing = retries_preparing.load(std::memory_order_relaxed);
    progress.retries_transport = retries_transport.load(std::memory_order_relaxed);
    progress.retries_bad_body = retries_bad_body.load(std::memory_order_relaxed);
}

Fetcher::Fetcher(Transport& transport, RateLimiter& limiter, FetchSettings settings, StopFlag& stop,
                 FetchCounters& counters)
    : m_transport(transport), m_limiter(limiter), m_settings(settings), m_stop(stop), m_counters(counters),
      m_backoff(m_settings.backoff_base, m_settings.backoff_max) {}

FetchEnd Fetcher::run(const std::function<std::optional<FetchTask>()>& next,
                      const std::function<void(FetchedItem&&)>& deliver) {
    std::priority_queue<Pending, std::vector<Pending>, LaterDue> retries;
    std::unordered_map<std::uint64_t, Pending> in_flight;
    std::optional<Pending> held;                      // a request that waits for the rate limiter
    constexpr steady_clock::time_point k_no_slot = steady_clock::time_point::min();
    steady_clock::time_point slot = k_no_slot;        // the send slot booked for it
    bool source_done = false;
    std::uint64_t next_tag = 1;

    m_stop.set_waker([this] { m_transport.wake(); });
    struct ClearWaker {
        StopFlag& stop;
        ~ClearWaker() { stop.set_waker({}); }
    } clear_waker{m_stop};

    for (;;) {
        steady_clock::time_point wake_at = steady_clock::now() + seconds(1);
        // Start requests while there is room, stopping at the first boundary after a stop request.
        while (!m_stop.requested() && in_flight.size() < m_settings.concurrency) {
            const steady_clock::time_point now = steady_clock::now();
            if (!held) {
                if (!retries.empty() && retries.top().due <= now) {
                    held = retries.top();
                    retries.pop();
                } else if (!source_done) {
                    if (std::optional<FetchTask> task = next()) {
                        held = Pending{std::move(*task), 1, now};
                    } else {
                        source_done = true;
                    }
                }
            }
            if (!held) {
                if (!retries.empty()) {
                    wake_at = std::min(wake_at, retries.top().due);
                }
                break;
            }
            // Book a slot, then wait for it: slots are handed out in order, so phases sharing the limiter
            // take turns instead of the busiest poller winning every free slot.
            if (slot == k_no_slot) {
                slot = m_limiter.reserve(now);
            }
            if (slot > now) {
                wake_at = std::min(wake_at, slot);
                break;
            }
            const std::uint64_t tag = next_tag++;
            m_transport.start(tag, held->task.url);
            m_counters.requests.fetch_add(1, std::memory_order_relaxed);
            in_flight.emplace(tag, std::move(*held));
            held.reset();
            slot = k_no_slot;
        }
        const bool stopping = m_stop.requested();
        if (in_flight.empty() && (stopping || (source_done && !held && retries.empty()))) {
            return stopping ? FetchEnd::Stopped : FetchEnd::Finished;
        }
        // Round up: a timeout truncated to 0 ms would spin while the limiter paces requests.
        const auto timeout = std::max(milliseconds(0), ceil<milliseconds>(wake_at - steady_clock::now()));
        for (TransportResult& result : m_transport.poll(in_flight.empty() ? timeout + milliseconds(1) : timeout)) {
            const auto it = in_flight.find(result.tag);
            if (it == in_flight.end()) {
                continue;
            }
            Pending pending = std::move(it->second);
            in_flight.erase(it);
            Classified verdict = classify(result, system_clock::now());
            if (verdict.outcome == Outcome::Ok && m_settings.accept_body && !m_settings.accept_body(result.body)) {
                verdict = Classified{Outcome::RetryLater, RetryClass::BadBody, "BAD_SHAPE",
                                     "HTTP 200 with a JSON object that lacks the fields this phase needs", {}};
            }
            switch (verdict.outcome) {
            case Outcome::Ok:
                deliver(FetchedItem{pending.task.index, false, std::move(result.body), result.status, "", ""});
                break;
            case Outcome::RejectItem:
                deliver(FetchedItem{pending.task.index, true, "", result.status, verdict.error_name,
                                    verdict.message});
                break;
            case Outcome::Fatal:
                throw FetchFailure("the API refused the request: " + verdict.message);
            case Outcome::RetryLater: {
                if (verdict.retry_class == RetryClass::RateLimited) {
                    m_limiter.on_rate_limited(steady_clock::now(), verdict.retry_after);
                    slot = k_no_slot; // booked before the 429: book again behind the hold
                }
                if (pending.attempt >= m_settings.max_attempts) {
                    throw FetchFailure("giving up after " + std::to_string(pending.attempt) +
                                       " attempts at " + pending.task.url + ": " +
                                       verdict.message);
                }
                count_retry(m_counters, verdict.retry_class);
                milliseconds delay = m_backoff.next(pending.attempt);
                if (verdict.retry_after) {
                    delay = std::max(delay, *verdict.retry_after);
                }
                ++pending.attempt;
                pending.due = steady_clock::now() + delay;
                retries.push(std::move(pending));
                break;
            }
            }
        }
    }
}

} // namespace pipeline::core
