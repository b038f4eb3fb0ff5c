#include "core/fetch/in_flight_budget.hpp"

#include <algorithm>
#include <cmath>

namespace pipeline::core {

using namespace std::chrono;

namespace {
// Little's law gives the mean number in flight at a steady rate; answer times spread around their median, and
// a request also holds its place while it waits for its send time, hence the headroom.
constexpr double k_headroom = 1.25;
constexpr std::size_t k_extra = 4;
// Before any answer: a guess that suits the live API (tens to a few hundred milliseconds).
constexpr microseconds k_assumed_answer_time{100'000};
} // namespace

bool AnswerTimes::add(nanoseconds answer_time, TimePoint now) {
    const auto micros = duration_cast<microseconds>(std::max(nanoseconds(0), answer_time)).count();
    m_samples[m_next] = static_cast<std::uint32_t>(std::min<std::int64_t>(micros, UINT32_MAX));
    m_next = (m_next + 1) % k_samples;
    m_count = std::min(m_count + 1, k_samples);
    ++m_since;
    if (m_median && m_since < k_every && now - m_computed_at < k_period) {
        return false;
    }
    std::array<std::uint32_t, k_samples> sorted = m_samples;
    const auto middle = sorted.begin() + static_cast<std::ptrdiff_t>(m_count / 2);
    std::nth_element(sorted.begin(), middle, sorted.begin() + static_cast<std::ptrdiff_t>(m_count));
    m_median = microseconds(*middle);
    m_since = 0;
    m_computed_at = now;
    return true;
}

InFlightBudget::InFlightBudget(Settings settings)
    : m_rate(settings.concurrency > 0 ? 0.0 : std::max(0.0, settings.rate_per_sec)),
      m_max(std::max<std::size_t>(1, settings.concurrency > 0 ? settings.concurrency
                                                              : settings.max_connections)),
      m_target(m_max) {
    m_target = target_for(k_assumed_answer_time);
}

std::size_t InFlightBudget::target_for(microseconds median) const {
    if (m_rate <= 0) {
        return m_max;
    }
    const double in_flight = m_rate * static_cast<double>(median.count()) / 1e6 * k_headroom;
    const double wanted = std::ceil(in_flight) + static_cast<double>(k_extra);
    return wanted >= static_cast<double>(m_max) ? m_max
                                                : std::max<std::size_t>(1, static_cast<std::size_t>(wanted));
}

std::size_t InFlightBudget::in_use() const {
    const std::lock_guard lock(m_mutex);
    return m_in_use;
}

void InFlightBudget::record_answer(nanoseconds answer_time, TimePoint now) {
    const std::lock_guard lock(m_mutex);
    if (!m_times.add(answer_time, now) || m_rate <= 0) {
        return;
    }
    const std::size_t target = target_for(*m_times.median());
    if (target != m_target.load(std::memory_order_relaxed)) {
        m_target.store(target, std::memory_order_relaxed);
        grant_locked(); // a higher target frees places at once; a lower one lets answers drain the excess
    }
}

void InFlightBudget::grant_locked() {
    while (!m_waiting.empty() && m_in_use < target()) {
        Lease* lease = m_waiting.front();
        m_waiting.pop_front();
        lease->m_waiting = false;
        ++lease->m_granted;
        ++lease->m_held;
        ++m_in_use;
        if (lease->m_wake) {
            lease->m_wake();
        }
    }
}

InFlightBudget::Lease::Lease(InFlightBudget& budget, std::function<void()> wake)
    : m_budget(budget), m_wake(std::move(wake)) {}

InFlightBudget::Lease::~Lease() {
    const std::lock_guard lock(m_budget.m_mutex);
    if (m_waiting) {
        std::erase(m_budget.m_waiting, this);
    }
    m_budget.m_in_use -= m_held;
    m_held = 0;
    m_granted = 0;
    m_budget.grant_locked();
}

bool InFlightBudget::Lease::take() {
    const std::lock_guard lock(m_budget.m_mutex);
    if (m_granted > 0) {
        --m_granted;
        return true;
    }
    // Nobody may jump the line: a free place goes to whoever waits first.
    if (!m_waiting && m_budget.m_waiting.empty() && m_budget.m_in_use < m_budget.target()) {
        ++m_budget.m_in_use;
        ++m_held;
        return true;
    }
    if (!m_waiting) {
        m_waiting = true;
        m_budget.m_waiting.push_back(this);
    }
    return false;
}

void InFlightBudget::Lease::give_back() {
    const std::lock_guard lock(m_budget.m_mutex);
    if (m_held == m_granted) {
        return; // nothing taken to give back
    }
    --m_held;
    --m_budget.m_in_use;
    m_budget.grant_locked();
}

void InFlightBudget::Lease::withdraw() {
    const std::lock_guard lock(m_budget.m_mutex);
    if (m_waiting) {
        std::erase(m_budget.m_waiting, this);
        m_waiting = false;
    }
    m_held -= m_granted;
    m_budget.m_in_use -= m_granted;
    m_granted = 0;
    m_budget.grant_locked();
}

} // namespace pipeline::core
