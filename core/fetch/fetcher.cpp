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

namespace {

// One run of the fetch loop, its state and its steps: start what the budget and the limiter allow, wait for
// answers, hand each on or schedule its retry. Fetcher::run reads as the loop over these steps.
class FetchLoop {
  public:
    FetchLoop(Transport& transport, RateLimiter& limiter, const FetchSettings& settings, StopFlag& stop,
              FetchCounters& counters, Backoff& backoff, InFlightBudget& budget,
              const std::function<std::optional<FetchTask>()>& next, const std::function<void(FetchedItem&&)>& deliver)
        : m_transport(transport), m_limiter(limiter), m_settings(settings), m_stop(stop), m_counters(counters),
          m_backoff(backoff), m_budget(budget), m_lease(budget, [&transport] { transport.wake(); }), m_next(next),
          m_deliver(deliver) {}

    /// Starts requests while the budget has room, stopping at the first boundary after a stop request;
    /// returns when to look again at the latest.
    steady_clock::time_point start_requests();
    /// Gives back what a stopping or idle loop holds; true when nothing is left to do.
    bool settle();
    /// Waits for answers until `wake_at` (or the first answer) and handles each.
    void take_answers(steady_clock::time_point wake_at);

  private:
    enum class Draw { Ready, NoPlace, Nothing };
    Draw draw(steady_clock::time_point now);
    void handle(TransportResult& result);
    void retry_later(Pending pending, const Classified& verdict);

    static constexpr steady_clock::time_point k_not_booked = steady_clock::time_point::min();
    Transport& m_transport;
    RateLimiter& m_limiter;
    const FetchSettings& m_settings;
    StopFlag& m_stop;
    FetchCounters& m_counters;
    Backoff& m_backoff;
    InFlightBudget& m_budget; // every request holds a place in it from just before it starts until its answer
    InFlightBudget::Lease m_lease;
    const std::function<std::optional<FetchTask>()>& m_next;
    const std::function<void(FetchedItem&&)>& m_deliver;
    std::priority_queue<Pending, std::vector<Pending>, LaterDue> m_retries;
    std::unordered_map<std::uint64_t, Pending> m_in_flight;
    std::optional<Pending> m_held;                  // a request that waits for the rate limiter
    steady_clock::time_point m_send_at = k_not_booked; // the send time booked for it
    bool m_have_place = false;                       // a place of the budget in hand
    bool m_source_done = false;
    std::uint64_t m_next_tag = 1;
    AnswerTimes m_answer_times;
};

// Takes the next request to start into m_held: a retry that is due, else a new task. A task is drawn only with
// a place of the budget in hand: what next() yields may depend on the answers in flight (an empty page ends a
// paged phase's pages).
FetchLoop::Draw FetchLoop::draw(steady_clock::time_point now) {
    if (m_held) {
        return Draw::Ready;
    }
    const bool retry_due = !m_retries.empty() && m_retries.top().due <= now;
    if ((retry_due || !m_source_done) && !m_have_place && !(m_have_place = m_lease.take())) {
        return Draw::NoPlace; // in line for a place: the budget wakes the transport when one is granted
    }
    if (retry_due) {
        m_held = m_retries.top();
        m_retries.pop();
    } else if (!m_source_done) {
        if (std::optional<FetchTask> task = m_next()) {
            m_held = Pending{std::move(*task), 1, 0, milliseconds(0), now};
        } else {
            m_source_done = true;
        }
    }
    return m_held ? Draw::Ready : Draw::Nothing;
}

steady_clock::time_point FetchLoop::start_requests() {
    steady_clock::time_point wake_at = steady_clock::now() + seconds(1);
    while (!m_stop.requested()) {
        const steady_clock::time_point now = steady_clock::now();
        const Draw drawn = draw(now);
        if (drawn == Draw::NoPlace) {
            break;
        }
        if (drawn == Draw::Nothing) {
            if (!m_retries.empty()) {
                wake_at = std::min(wake_at, m_retries.top().due);
            }
            break;
        }
        // Book a send time, then wait for it: times are handed out in order, so phases sharing the limiter
        // take turns instead of the busiest poller winning every free one.
        if (m_send_at == k_not_booked) {
            const RateLimiter::Booking booking = m_limiter.reserve(now);
            if (!booking.booked) {
                wake_at = std::min(wake_at, booking.at); // a hold: ask again when it ends
                break;
            }
            m_send_at = booking.at;
        }
        if (m_send_at > now) {
            wake_at = std::min(wake_at, m_send_at);
            break;
        }
        if (m_settings.before_send) {
            if (const StopReason refused = m_settings.before_send(); refused != StopReason::None) {
                m_stop.request(refused);
                break;
            }
        }
        const std::uint64_t tag = m_next_tag++;
        m_transport.start(tag, m_held->task.url);
        m_counters.requests.fetch_add(1, std::memory_order_relaxed);
        m_held->sent_at = now;
        m_in_flight.emplace(tag, std::move(*m_held));
        m_held.reset();
        m_send_at = k_not_booked;
        m_have_place = false;
    }
    m_counters.in_flight.store(m_in_flight.size(), std::memory_order_relaxed);
    return wake_at;
}

bool FetchLoop::settle() {
    const bool stopping = m_stop.requested();
    // A place is kept only for a request about to start: the others go to the phases that have work.
    if (m_have_place && (stopping || !m_held)) {
        m_lease.give_back();
        m_have_place = false;
    }
    if (stopping) {
        m_lease.withdraw(); // nothing new starts
    }
    return m_in_flight.empty() && (stopping || (m_source_done && !m_held && m_retries.empty()));
}

void FetchLoop::take_answers(steady_clock::time_point wake_at) {
    // Round up: a timeout truncated to 0 ms would spin while the limiter paces requests.
    const auto timeout = std::max(milliseconds(0), ceil<milliseconds>(wake_at - steady_clock::now()));
    for (TransportResult& result : m_transport.poll(m_in_flight.empty() ? timeout + milliseconds(1) : timeout)) {
        handle(result);
    }
}

void FetchLoop::handle(TransportResult& result) {
    const auto it = m_in_flight.find(result.tag);
    if (it == m_in_flight.end()) {
        return;
    }
    Pending pending = std::move(it->second);
    m_in_flight.erase(it);
    m_lease.give_back();
    const steady_clock::time_point answered = steady_clock::now();
    m_budget.record_answer(answered - pending.sent_at, answered);
    if (m_answer_times.add(answered - pending.sent_at, answered)) {
        m_counters.answer_ms_p50.store(static_cast<std::uint64_t>((m_answer_times.median()->count() + 500) / 1000),
                                       std::memory_order_relaxed);
    }
    m_counters.in_flight.store(m_in_flight.size(), std::memory_order_relaxed);
    Classified verdict = m_settings.classify ? m_settings.classify(result, system_clock::now())
                                             : classify(result, system_clock::now());
    if (verdict.outcome == Outcome::Ok && m_settings.accept_body && !m_settings.accept_body(result.body)) {
        verdict = Classified{Outcome::RetryLater, RetryClass::BadBody, "BAD_SHAPE",
                             "HTTP 200 with a JSON object that lacks the fields this phase needs", {}};
    }
    switch (verdict.outcome) {
    case Outcome::Ok:
        m_deliver(FetchedItem{pending.task.index, false, std::move(result.body), result.status, "", ""});
        break;
    case Outcome::RejectItem:
        m_deliver(FetchedItem{pending.task.index, true, "", result.status, verdict.error_name, verdict.message});
        break;
    case Outcome::Fatal:
        throw FetchFailure("the API refused the request: " + verdict.message);
    case Outcome::RetryLater:
        retry_later(std::move(pending), verdict);
        break;
    }
}

// The API asks us to come back later when the class says so (429, maintenance, data not ready) or when any
// answer names a wait (Retry-After on a 5xx, a load balancer's page, an unknown code). Such waits add up per
// item, and one that would take the item past max_wait is not started: the phase stops (the class's reason,
// else `unavailable`) and a later --resume goes on (docs/live-api.md). Our own backoff is only capped.
void FetchLoop::retry_later(Pending pending, const Classified& verdict) {
    // Why, for -v (the retry summary of app/retry_summary.cpp counts them by class at info).
    spdlog::debug("{}: {} (attempt {}): {}", verdict.error_name, pending.task.url, pending.attempt, verdict.message);
    const StopReason class_stop =
        verdict.retry_class == RetryClass::None ? StopReason::None : retry_class_info(verdict.retry_class).wait_stop;
    const bool asked_to_wait = class_stop != StopReason::None || verdict.retry_after.has_value();
    milliseconds delay = m_backoff.next(pending.attempt + pending.waits);
    if (verdict.retry_after) {
        delay = std::max(delay, *verdict.retry_after);
    }
    if (asked_to_wait && pending.waited + delay > m_settings.max_wait) {
        const StopReason reason = class_stop != StopReason::None ? class_stop : StopReason::Unavailable;
        if (!m_stop.requested()) {
            spdlog::warn("{}: the API asks to wait ({} so far for {}, next {}): more than api.max_wait_s ({}); "
                         "stopping ({})",
                         verdict.error_name, seconds_text(pending.waited), pending.task.url, seconds_text(delay),
                         seconds_text(m_settings.max_wait), stop_reason_key(reason));
        }
        m_counters.count_retry(verdict.retry_class); // retried by the run that resumes this one
        m_stop.request(reason);
        return;
    }
    delay = std::min(delay, m_settings.max_wait);
    if (class_stop != StopReason::None) {
        ++pending.waits; // not limited by max_attempts: the ceiling on the waiting ends these
    } else {
        if (pending.attempt >= m_settings.max_attempts) {
            throw FetchFailure("giving up after " + std::to_string(pending.attempt) + " attempts at " +
                               pending.task.url + ": " + verdict.message);
        }
        ++pending.attempt;
    }
    if (asked_to_wait) {
        pending.waited += delay;
    }
    if (verdict.retry_class == RetryClass::RateLimited) {
        m_limiter.on_rate_limited(steady_clock::now(), verdict.retry_after);
        m_send_at = k_not_booked; // booked before the 429: book again behind the hold
    }
    m_counters.count_retry(verdict.retry_class);
    pending.due = steady_clock::now() + delay;
    m_retries.push(std::move(pending));
}

} // namespace

FetchEnd Fetcher::run(const std::function<std::optional<FetchTask>()>& next,
                      const std::function<void(FetchedItem&&)>& deliver) {
    m_stop.set_waker([this] { m_transport.wake(); });
    struct ClearWaker {
        StopFlag& stop;
        ~ClearWaker() { stop.set_waker({}); }
    } clear_waker{m_stop};
    std::optional<InFlightBudget> own_budget;
    InFlightBudget& budget = m_settings.budget != nullptr
                                 ? *m_settings.budget
                                 : own_budget.emplace(InFlightBudget::Settings{m_settings.concurrency});
    FetchLoop loop(m_transport, m_limiter, m_settings, m_stop, m_counters, m_backoff, budget, next, deliver);
    for (;;) {
        const steady_clock::time_point wake_at = loop.start_requests();
        if (loop.settle()) {
            return m_stop.requested() ? FetchEnd::Stopped : FetchEnd::Finished;
        }
        loop.take_answers(wake_at);
    }
}

} // namespace pipeline::core
