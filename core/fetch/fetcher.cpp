#include "core/fetch/fetcher.hpp"

#include <algorithm>
#include <string>
#include <queue>
#include <unordered_map>
#include <vector>

#include <spdlog/spdlog.h>

namespace pipeline::core {

using namespace std::chrono;

namespace {

struct Pending {
    FetchTask task;
    int attempt = 1;        ///< the attempt about to be made, counting answers that end in failure
    int waits = 0;          ///< answers of a wait class (rate limit, maintenance, not ready)
    milliseconds waited{0}; ///< the total of the waits answers asked for (those, or any with Retry-After)
    steady_clock::time_point due{};
    steady_clock::time_point sent_at{}; ///< when the request in flight started
};

struct LaterDue {
    bool operator()(const Pending& a, const Pending& b) const { return a.due > b.due; }
};

// "3600 s", or "1.5 s" below ten seconds, where whole seconds would hide why a wait passed the ceiling.
std::string seconds_text(milliseconds duration) {
    if (duration < seconds(10)) {
        const auto tenths = duration.count() / 100;
        const std::string fraction = tenths % 10 != 0 ? "." + std::to_string(tenths % 10) : "";
        return std::to_string(tenths / 10) + fraction + " s";
    }
    return std::to_string(duration_cast<seconds>(duration).count()) + " s";
}

} // namespace

void FetchCounters::count_retry(RetryClass retry_class) {
    retries.fetch_add(1, std::memory_order_relaxed);
    if (retry_class != RetryClass::None) {
        retries_by_class[static_cast<std::size_t>(retry_class)].fetch_add(1, std::memory_order_relaxed);
    }
}

std::uint64_t FetchCounters::retries_of(RetryClass retry_class) const {
    return retries_by_class[static_cast<std::size_t>(retry_class)].load(std::memory_order_relaxed);
}

RetryCounts FetchCounters::retry_counts() const {
    RetryCounts counts{};
    for (std::size_t i = 0; i < counts.size(); ++i) {
        counts[i] = retries_by_class[i].load(std::memory_order_relaxed);
    }
    return counts;
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
    // Every request holds a slot of the in-flight budget from just before it starts until its answer is in.
    std::optional<InFlightBudget> own_budget;
    InFlightBudget& budget = m_settings.budget != nullptr
                                 ? *m_settings.budget
                                 : own_budget.emplace(InFlightBudget::Settings{m_settings.concurrency});
    InFlightBudget::Lease lease(budget, [this] { m_transport.wake(); });
    bool have_slot = false;
    AnswerTimes answer_times;

    for (;;) {
        steady_clock::time_point wake_at = steady_clock::now() + seconds(1);
        // Start requests while the budget has room, stopping at the first boundary after a stop request.
        while (!m_stop.requested()) {
            const steady_clock::time_point now = steady_clock::now();
            const bool retry_due = !retries.empty() && retries.top().due <= now;
            // A task is drawn only with a slot of the budget in hand: what next() yields may depend on the
            // answers in flight (an empty page ends a paged phase's pages).
            if (!held && (retry_due || !source_done) && !have_slot && !(have_slot = lease.take())) {
                break; // in line for a slot: the budget wakes the transport when one is granted
            }
            if (!held) {
                if (retry_due) {
                    held = retries.top();
                    retries.pop();
                } else if (!source_done) {
                    if (std::optional<FetchTask> task = next()) {
                        held = Pending{std::move(*task), 1, 0, milliseconds(0), now};
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
                const RateLimiter::Booking booking = m_limiter.reserve(now);
                if (!booking.booked) {
                    wake_at = std::min(wake_at, booking.at); // a hold: ask again when it ends
                    break;
                }
                slot = booking.at;
            }
            if (slot > now) {
                wake_at = std::min(wake_at, slot);
                break;
            }
            if (m_settings.before_send) {
                if (const StopReason refused = m_settings.before_send(); refused != StopReason::None) {
                    m_stop.request(refused);
                    break;
                }
            }
            const std::uint64_t tag = next_tag++;
            m_transport.start(tag, held->task.url);
            m_counters.requests.fetch_add(1, std::memory_order_relaxed);
            held->sent_at = now;
            in_flight.emplace(tag, std::move(*held));
            held.reset();
            slot = k_no_slot;
            have_slot = false;
        }
        m_counters.in_flight.store(in_flight.size(), std::memory_order_relaxed);
        const bool stopping = m_stop.requested();
        // A slot is kept only for a request about to start: the others go to the phases that have work.
        if (have_slot && (stopping || !held)) {
            lease.give_back();
            have_slot = false;
        }
        if (stopping) {
            lease.withdraw(); // nothing new starts
        }
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
            lease.give_back();
            const steady_clock::time_point answered = steady_clock::now();
            budget.record_answer(answered - pending.sent_at, answered);
            if (answer_times.add(answered - pending.sent_at, answered)) {
                m_counters.answer_ms_p50.store(
                    static_cast<std::uint64_t>((answer_times.median()->count() + 500) / 1000),
                    std::memory_order_relaxed);
            }
            m_counters.in_flight.store(in_flight.size(), std::memory_order_relaxed);
            Classified verdict = m_settings.classify ? m_settings.classify(result, system_clock::now())
                                                     : classify(result, system_clock::now());
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
                // Why, for -v (the retry summary of app/retry_summary.cpp counts them by class at info).
                spdlog::debug("{}: {} (attempt {}): {}", verdict.error_name, pending.task.url, pending.attempt,
                              verdict.message);
                const StopReason class_stop = verdict.retry_class == RetryClass::None
                                                  ? StopReason::None
                                                  : retry_class_info(verdict.retry_class).wait_stop;
                // The API asks us to come back later when the class says so (429, maintenance, data not
                // ready) or when any answer names a wait (Retry-After on a 5xx, a load balancer's page, an
                // unknown code). Such waits add up per item, and one that would take the item past max_wait
                // is not started: the phase stops (the class's reason, else `unavailable`) and a later
                // --resume goes on (docs/live-api.md). Our own backoff is only capped.
                const bool asked_to_wait = class_stop != StopReason::None || verdict.retry_after.has_value();
                milliseconds delay = m_backoff.next(pending.attempt + pending.waits);
                if (verdict.retry_after) {
                    delay = std::max(delay, *verdict.retry_after);
                }
                if (asked_to_wait && pending.waited + delay > m_settings.max_wait) {
                    const StopReason reason =
                        class_stop != StopReason::None ? class_stop : StopReason::Unavailable;
                    if (!m_stop.requested()) {
                        spdlog::warn("{}: the API asks to wait ({} so far for {}, next {}): more than "
                                     "api.max_wait_s ({}); stopping ({})",
                                     verdict.error_name, seconds_text(pending.waited), pending.task.url,
                                     seconds_text(delay), seconds_text(m_settings.max_wait),
                                     stop_reason_key(reason));
                    }
                    m_counters.count_retry(verdict.retry_class); // retried by the run that resumes this one
                    m_stop.request(reason);
                    break;
                }
                delay = std::min(delay, m_settings.max_wait);
                if (class_stop != StopReason::None) {
                    // Not limited by max_attempts: the ceiling on the waiting ends these.
                    ++pending.waits;
                } else {
                    if (pending.attempt >= m_settings.max_attempts) {
                        throw FetchFailure("giving up after " + std::to_string(pending.attempt) +
                                           " attempts at " + pending.task.url + ": " + verdict.message);
                    }
                    ++pending.attempt;
                }
                if (asked_to_wait) {
                    pending.waited += delay;
                }
                if (verdict.retry_class == RetryClass::RateLimited) {
                    m_limiter.on_rate_limited(steady_clock::now(), verdict.retry_after);
                    slot = k_no_slot; // booked before the 429: book again behind the hold
                }
                m_counters.count_retry(verdict.retry_class);
                pending.due = steady_clock::now() + delay;
                retries.push(std::move(pending));
                break;
            }
            }
        }
    }
}

} // namespace pipeline::core
