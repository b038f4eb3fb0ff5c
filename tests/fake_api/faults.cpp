#include "faults.hpp"

#include <chrono>
#include <ctime>
#include <thread>

namespace fake_api {

void Faults::delay() const {
    if (m_options.latency_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(m_options.latency_ms));
}

double Faults::next_unit() {
    // Draw number k is a pure function of (seed, k): a sequential client sees the same faults on every run.
    return unit_interval(mix64(m_draws.fetch_add(1, std::memory_order_relaxed), m_options.seed));
}

std::optional<InjectedError> Faults::before_serving(Endpoint endpoint) {
    std::optional<InjectedError> error = draw_error(endpoint);
    if (error && !m_options.error_message.empty()) error->message = m_options.error_message;
    return error;
}

std::optional<InjectedError> Faults::draw_error(Endpoint endpoint) {
    if (m_options.forbid) return InjectedError{403, "OPENAPI00002", "Forbidden (--forbid)", ""};
    if (m_options.rate_limit > 0) {
        const std::time_t now = std::time(nullptr);
        std::lock_guard lock(m_rate_mutex);
        if (m_rate_window.arrive(now) > m_options.rate_limit) {
            return InjectedError{429, "OPENAPI00007", "The service has exceeded the request limit", "1"};
        }
    }
    if (!m_options.faults_on[static_cast<std::size_t>(endpoint)]) return std::nullopt;
    double u = next_unit();
    if ((u -= m_options.fail_500) < 0) return InjectedError{500, "OPENAPI00001", "Internal server error", ""};
    if ((u -= m_options.fail_503) < 0) return InjectedError{503, "OPENAPI00011", "API under maintenance", ""};
    if ((u -= m_options.fail_429) < 0) {
        return InjectedError{429, "OPENAPI00007", "The service has exceeded the request limit", m_options.retry_after};
    }
    if ((u -= m_options.fail_prepare) < 0) return InjectedError{400, "OPENAPI00009", "Data being prepared", ""};
    return std::nullopt;
}

bool Faults::truncate_answer(Endpoint endpoint) {
    if (m_options.truncate <= 0.0 || !m_options.faults_on[static_cast<std::size_t>(endpoint)]) return false;
    return next_unit() < m_options.truncate;
}

}  // namespace fake_api
